/// The version both programs report (`--version`); `doctor` checks that they agree.
public enum ProgramVersion {
    public static let current = "0.2.0"
}
