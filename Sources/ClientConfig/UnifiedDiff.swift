/// A unified diff (as `diff -u` prints) of a file and the same file with some byte ranges
/// replaced, computed from the replacements themselves.
public enum UnifiedDiff {
    static let context = 3

    public static func make(old: [UInt8], edits: [(span: Range<Int>, text: String)], path: String) -> String {
        guard !edits.isEmpty else { return "" }
        let oldLines = lines(old)
        // Line starts (byte offsets) of the old text.
        var starts = [0]
        for (offset, byte) in old.enumerated() where byte == 0x0A { starts.append(offset + 1) }
        func line(at offset: Int) -> Int { (starts.lastIndex { $0 <= offset }) ?? 0 }

        // Each edit as whole old lines [first, last] and the lines that replace them; edits that
        // share lines are merged.
        var changes: [(first: Int, last: Int, new: [String])] = []
        var pending: (first: Int, last: Int, start: Int, end: Int, pieces: [UInt8])?
        func flush() {
            guard let group = pending else { return }
            let lineStart = starts[group.first]
            let lineEnd = group.last + 1 < starts.count ? starts[group.last + 1] : old.count
            let replaced = Array(old[lineStart..<group.start]) + group.pieces + Array(old[group.end..<lineEnd])
            // Lines the edit leaves as they were (an entry's first line, say) are context, not change.
            var (first, last, new) = (group.first, group.last, lines(replaced))
            while first <= last, let line = new.first, line == oldLines[first] { first += 1; new.removeFirst() }
            while first <= last, let line = new.last, line == oldLines[last] { last -= 1; new.removeLast() }
            if first <= last || !new.isEmpty { changes.append((first, last, new)) }
            pending = nil
        }
        for edit in edits.sorted(by: { $0.span.lowerBound < $1.span.lowerBound }) {
            let first = line(at: edit.span.lowerBound)
            let last = line(at: max(edit.span.lowerBound, edit.span.upperBound - 1))
            if var group = pending, first <= group.last {
                group.pieces += Array(old[group.end..<edit.span.lowerBound]) + Array(edit.text.utf8)
                group.end = edit.span.upperBound
                group.last = max(group.last, last)
                pending = group
            } else {
                flush()
                pending = (first, last, edit.span.lowerBound, edit.span.upperBound, Array(edit.text.utf8))
            }
        }
        flush()

        var out = "--- \(path)\n+++ \(path)\n"
        var index = 0
        var shift = 0  // new line number minus old line number, before the current hunk
        while index < changes.count {
            // A hunk takes changes whose contexts touch.
            var end = index
            while end + 1 < changes.count && changes[end + 1].first - changes[end].last - 1 <= 2 * context { end += 1 }
            let from = max(0, changes[index].first - context)
            let to = min(oldLines.count - 1, changes[end].last + context)
            var body: [String] = []
            var cursor = from
            var added = 0
            for change in changes[index...end] {
                body += oldLines[cursor..<change.first].map { " " + $0 }
                if change.first <= change.last { body += oldLines[change.first...change.last].map { "-" + $0 } }
                body += change.new.map { "+" + $0 }
                added += change.new.count - (change.last - change.first + 1)
                cursor = change.last + 1
            }
            if cursor <= to { body += oldLines[cursor...to].map { " " + $0 } }
            // As diff -u says it, so that patch applies the change to a file without a final newline.
            if to == oldLines.count - 1, old.last != 0x0A, let last = body.lastIndex(where: { $0.hasPrefix(" ") || $0.hasPrefix("-") }) {
                body.insert("\\ No newline at end of file", at: last + 1)
                if body.last?.hasPrefix("+") == true, old.last != 0x0A { body.append("\\ No newline at end of file") }
            }
            let oldCount = to - from + 1
            out += "@@ -\(from + 1),\(oldCount) +\(from + 1 + shift),\(oldCount + added) @@\n" + body.joined(separator: "\n") + "\n"
            shift += added
            index = end + 1
        }
        return out
    }

    /// The lines of `bytes`, without their newlines (a final newline starts no line).
    static func lines(_ bytes: [UInt8]) -> [String] {
        var result = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if bytes.last == 0x0A { result.removeLast() }
        return result
    }
}
