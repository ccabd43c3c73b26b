"""Runs a command inside a desktop-like session, the way a graphical login leaves one, and tears it
all down however the command ends:

    desktop_session.py [--keyring unlocked|locked|none] [--service-manager-env NAME=VALUE ...]
                       [--prompter hold] [--setup-command SHELL-COMMAND] [-v] -- COMMAND [ARG ...]

- A private mount namespace (the script re-executes itself under `unshare --mount --propagation
  private`; tests and CI run as root; as another user it adds --user --map-current-user, which
  needs unprivileged user namespaces and is untried) with a tmpfs on /run/user and /run/user/UID
  (mode 0700, owned by UID), as systemd-logind makes it. The harness's own files (logs, the
  keyring's home, the control script) live on that tmpfs too: nothing outlives the namespace.
- A session bus (dbus-daemon, no service activation) listening at /run/user/UID/bus, the place
  systemd's user manager puts it. Nothing is told its address by DBUS_SESSION_BUS_ADDRESS.
- --keyring unlocked (default): gnome-keyring-daemon --unlock --components=secrets on that bus,
  with a random password, its keyrings under a HOME and XDG_DATA_HOME of its own (not the
  command's), proved to work by a secret-tool store and lookup. --keyring locked: the same, then
  the login collection is locked (after --setup-command). --keyring none: no Secret Service.
- --service-manager-env NAME=VALUE (repeatable): a fake systemd user manager on the bus: the name
  org.freedesktop.systemd1, object /org/freedesktop/systemd1, interface
  org.freedesktop.systemd1.Manager with the read-only property Environment (as), holding these
  "NAME=VALUE" strings (what `systemctl --user show-environment` prints on a desktop), readable
  with Properties.Get/GetAll and introspectable (`busctl --user` works).
- --prompter hold: a fake gcr system prompter on the bus (org.gnome.keyring.SystemPrompter,
  /org/gnome/keyring/Prompter, interface org.gnome.keyring.internal.Prompter: BeginPrompting,
  PerformPrompt, StopPrompting; it calls back PromptReady on the caller's
  org.gnome.keyring.internal.Prompter.Callback), the one gnome-keyring-daemon asks to show its
  unlock dialog when a client calls Prompt. It shows the first dialog and never answers its
  password question: the dialog stays "on screen" until the collection is unlocked some other way.
  It also counts the clients' org.freedesktop.Secret.Prompt.Prompt calls (by dbus-monitor):
  gnome-keyring 42 queues unlock prompts itself and begins one dialog at a time, so BeginPrompting
  stays at 1 however many clients called Prompt. Without --prompter there is no prompter, and
  gnome-keyring dismisses every prompt at once.
  Beware: gnome-keyring 42.1 aborts (gkd-secret-unlock.c:243, assertion `!self->current`) when a
  client calls Dismiss on an unlock prompt while an unlock dialog is up (its own or another's),
  whether or not the collection was unlocked meanwhile; a client that vanishes instead is fine.
- --setup-command: run by `sh -c` with the command's environment before it, while the keyring is
  still unlocked (for `locked`, the lock comes after): to create a vault and sign in. Its failure
  ends the session with its status.

The command runs, in a process group of its own, with this process's environment less
DBUS_SESSION_BUS_ADDRESS, XDG_RUNTIME_DIR, DISPLAY and WAYLAND_DISPLAY, plus:
  MCP_VAULT_TEST_BUS_ADDRESS      unix:path=/run/user/UID/bus, for the test's own D-Bus calls
                                  (DBUS_SESSION_BUS_ADDRESS=$MCP_VAULT_TEST_BUS_ADDRESS CMD)
  MCP_VAULT_TEST_DESKTOP_CONTROL  an executable: `$MCP_VAULT_TEST_DESKTOP_CONTROL ACTION` where
                                  ACTION is lock (Secret Service Lock of the login collection),
                                  unlock (with no prompt: gnome-keyring's UnlockWithMasterPassword),
                                  locked (prints true or false), prompts (prints the BeginPrompting
                                  count), prompt-calls (prints the Secret.Prompt.Prompt count)
  MCP_VAULT_TEST_PROMPTS          (with --prompter) a file holding the number of BeginPrompting
                                  calls so far; FILE.log has one JSON line per prompter call and
                                  per client Prompt or Dismiss call
  MCP_VAULT_TEST_PROMPT_CALLS     (with --prompter) a file holding the number of
                                  org.freedesktop.Secret.Prompt.Prompt calls so far, by any client
  MCP_VAULT_TEST_KEYRING_PID      (with a keyring) gnome-keyring-daemon's pid
Exit status: the command's (128+N if a signal N ended it); 69 if the session could not be set up
(the daemons' logs are then printed on stderr, as they are when a daemon died while the command
ran); 2 on a usage error. -v prints the daemons' logs on stderr at the end in any case. SIGTERM,
SIGINT or SIGHUP ends the command's process group and the daemons; if this process is killed
outright, the daemons and the command get SIGTERM from the kernel (PR_SET_PDEATHSIG).

Needs dbus-daemon, gnome-keyring-daemon, secret-tool, unshare, mount (Debian: dbus-daemon
gnome-keyring libsecret-tools util-linux mount) and dbus-next (scripts/python-peers installs it).
"""

import argparse
import asyncio
import base64
import ctypes
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time

RUN_USER = "/run/user"
NAMESPACE_MARK = "MCP_VAULT_TEST_DESKTOP_OUTER_NS"  # the mount namespace we re-executed from
STRIPPED = ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "DISPLAY", "WAYLAND_DISPLAY", NAMESPACE_MARK)

SECRETS = "org.freedesktop.secrets"
SECRETS_PATH = "/org/freedesktop/secrets"
LOGIN_COLLECTION = "/org/freedesktop/secrets/collection/login"
GUILT_RIDDEN = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"

MANAGER_NAME, MANAGER_PATH, MANAGER_INTERFACE = ("org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                 "org.freedesktop.systemd1.Manager")
# gcr 3.41's gcr/gcr-dbus-constants.h: what a GcrSystemPrompt (gnome-keyring's unlock prompt is one)
# calls, and what it expects to be called back on.
PROMPTER_NAME, PROMPTER_PATH = "org.gnome.keyring.SystemPrompter", "/org/gnome/keyring/Prompter"
PROMPTER_INTERFACE = "org.gnome.keyring.internal.Prompter"
CALLBACK_INTERFACE = "org.gnome.keyring.internal.Prompter.Callback"

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- Written by Tests/Peers/desktop_session.py: a session bus where systemd puts one, no service
     activation, so only the daemons the harness starts exist on it. -->
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class SetupError(Exception):
    pass


def log(message: str) -> None:
    print(f"desktop_session: {message}", file=sys.stderr, flush=True)


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when this process dies, even by SIGKILL."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def mount_namespace() -> str:
    return os.readlink("/proc/self/ns/mnt")


# ---------------------------------------------------------------------------------------------
# D-Bus clients (dbus-next), also for scenario scripts that import this module


async def _connect(address: str):
    from dbus_next.aio import MessageBus
    return await MessageBus(bus_address=address).connect()


async def _call(bus, destination, path, interface, member, signature="", body=()):
    from dbus_next import Message, MessageType
    reply = await bus.call(Message(destination=destination, path=path, interface=interface, member=member,
                                   signature=signature, body=list(body)))
    if reply.message_type == MessageType.ERROR:
        raise RuntimeError(f"{interface}.{member}: {reply.error_name}: {reply.body[0] if reply.body else ''}")
    return reply.body


async def keyring_locked(address: str, collection: str = LOGIN_COLLECTION) -> bool:
    from dbus_next import Variant  # noqa: F401  (the reply holds one)
    bus = await _connect(address)
    try:
        [value] = await _call(bus, SECRETS, collection, "org.freedesktop.DBus.Properties", "Get", "ss",
                              ["org.freedesktop.Secret.Collection", "Locked"])
        return bool(value.value)
    finally:
        bus.disconnect()


async def keyring_lock(address: str, collection: str = LOGIN_COLLECTION) -> None:
    """Secret Service Lock, as a screen locker does; gnome-keyring locks without a prompt."""
    bus = await _connect(address)
    try:
        locked, prompt = await _call(bus, SECRETS, SECRETS_PATH, "org.freedesktop.Secret.Service", "Lock", "ao",
                                     [[collection]])
        if collection not in locked:
            raise RuntimeError(f"Lock locked {locked}, prompt {prompt}")
    finally:
        bus.disconnect()


async def keyring_unlock(address: str, password: bytes, collection: str = LOGIN_COLLECTION) -> None:
    """Unlocks with the password and no prompt: gnome-keyring's UnlockWithMasterPassword over a
    "plain" Secret Service session (the secret crosses the bus in clear; a test keyring only)."""
    from dbus_next import Variant
    bus = await _connect(address)
    try:
        _, session = await _call(bus, SECRETS, SECRETS_PATH, "org.freedesktop.Secret.Service", "OpenSession", "sv",
                                 ["plain", Variant("s", "")])
        await _call(bus, SECRETS, SECRETS_PATH, GUILT_RIDDEN, "UnlockWithMasterPassword", "o(oayays)",
                    [collection, [session, b"", password, "text/plain"]])
    finally:
        bus.disconnect()


async def has_owner(address: str, name: str) -> bool:
    bus = await _connect(address)
    try:
        [owned] = await _call(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                              "NameHasOwner", "s", [name])
        return owned
    finally:
        bus.disconnect()


# ---------------------------------------------------------------------------------------------
# `serve`: the fake desktop services, in a process of their own


class Prompter:
    """A gcr system prompter as gcr/gcr-system-prompter.c behaves on the bus, minus the dialog:
    BeginPrompting(o callback) queues the caller's prompt and the first in the queue is sent
    PromptReady("", {}, exchange) (the "dialog is up" call the caller waits for before it asks);
    PerformPrompt(o callback, s type, a{sv} properties, s exchange) is the question, which `hold`
    never answers; StopPrompting(o callback) takes it down and readies the next. Every call is
    logged; the BeginPrompting count is kept in a file of its own."""

    def __init__(self, bus, mode: str, count_file: str):
        self.bus, self.mode, self.count_file = bus, mode, count_file
        self.queue: list[tuple[str, str]] = []  # (caller's unique name, callback path); [0] is on screen
        self.begun = self.prompt_calls = 0
        self.write_count(self.count_file, 0)
        self.write_count(self.count_file + "-calls", 0)

    @staticmethod
    def write_count(path: str, count: int) -> None:
        temporary = path + ".tmp"
        with open(temporary, "w") as f:
            f.write(f"{count}\n")
        os.replace(temporary, path)

    def client_call(self, member: str, **fields) -> None:
        """A client's org.freedesktop.Secret.Prompt call (Prompt or Dismiss), seen by the monitor."""
        if member == "Prompt":
            self.prompt_calls += 1
            self.write_count(self.count_file + "-calls", self.prompt_calls)
        self.record(f"Secret.Prompt.{member}", **fields)

    def record(self, call: str, **fields) -> None:
        with open(self.count_file + ".log", "a") as f:
            f.write(json.dumps({"time": time.time(), "call": call, **fields}) + "\n")

    def handle(self, msg):
        from dbus_next import Message, MessageType
        if (msg.message_type != MessageType.METHOD_CALL or msg.path != PROMPTER_PATH
                or msg.interface not in (PROMPTER_INTERFACE, None)):
            return None
        callback = msg.body[0] if msg.body else ""
        key = (msg.sender, callback)
        if msg.member == "BeginPrompting":
            self.begun += 1
            self.write_count(self.count_file, self.begun)
            self.record("BeginPrompting", sender=msg.sender, callback=callback, count=self.begun)
            self.queue.append(key)
            self.bus.send(Message.new_method_return(msg))
            if len(self.queue) == 1:
                self.ready(key)
            return True
        if msg.member == "PerformPrompt":
            _, kind, properties, _exchange = msg.body
            self.record("PerformPrompt", sender=msg.sender, callback=callback, type=kind,
                        properties={k: v.value for k, v in properties.items()})
            self.bus.send(Message.new_method_return(msg))
            return True  # hold: no PromptReady with an answer, ever
        if msg.member == "StopPrompting":
            self.record("StopPrompting", sender=msg.sender, callback=callback)
            was_active = bool(self.queue) and self.queue[0] == key
            if key in self.queue:
                self.queue.remove(key)
            self.bus.send(Message.new_method_return(msg))
            if was_active and self.queue:
                self.ready(self.queue[0])
            return True
        return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", f"no method {msg.member}")

    def ready(self, key: tuple[str, str]) -> None:
        from dbus_next import Message
        sender, callback = key
        # The opening of a gcr secret exchange ([sx-aes-1] public=DH public key). The caller
        # derives a transport key from whatever number it is given; as no password is ever sent
        # back, a random one does.
        public = base64.b64encode(b"\x01" + secrets.token_bytes(191)).decode()
        exchange = f"[sx-aes-1]\npublic={public}\n"
        self.record("PromptReady", to=sender, callback=callback)

        async def send():
            reply = await self.bus.call(Message(destination=sender, path=callback, interface=CALLBACK_INTERFACE,
                                                member="PromptReady", signature="sa{sv}s", body=["", {}, exchange]))
            self.record("PromptReady answered", to=sender, type=reply.message_type.name,
                        error=reply.error_name)

        asyncio.ensure_future(send())


async def watch_prompt_calls(address: str, prompter: Prompter) -> None:
    """Counts the Secret Service Prompt calls of every client (gnome-keyring queues its unlock
    prompts and begins one at a time with the prompter, so BeginPrompting alone does not tell one
    client's prompt from ten), by dbus-monitor, which the bus's policy allows."""
    rules = [f"type='method_call',interface='org.freedesktop.Secret.Prompt',member='{m}'" for m in ("Prompt", "Dismiss")]
    monitor = await asyncio.create_subprocess_exec("dbus-monitor", "--address", address, *rules,
                                                   stdout=asyncio.subprocess.PIPE, preexec_fn=die_with_parent)
    await monitor.stdout.readline()  # its own NameAcquired: it is watching

    async def read():
        async for line in monitor.stdout:
            text = line.decode(errors="replace")
            if text.startswith("method call "):
                fields = dict(part.split("=", 1) for part in text.replace(";", "").split() if "=" in part)
                prompter.client_call(fields.get("member", "?"), sender=fields.get("sender"), path=fields.get("path"))

    asyncio.ensure_future(read())


async def serve(args: argparse.Namespace) -> None:
    from dbus_next import PropertyAccess, RequestNameReply
    from dbus_next.service import ServiceInterface, dbus_property

    bus = await _connect(args.bus)

    if args.env is not None:
        environment = list(args.env)

        class Manager(ServiceInterface):
            def __init__(self):
                super().__init__(MANAGER_INTERFACE)

            @dbus_property(access=PropertyAccess.READ)
            def Environment(self) -> "as":  # noqa: F821 (a D-Bus signature, as dbus-next reads it)
                return environment

        bus.export(MANAGER_PATH, Manager())
        if await bus.request_name(MANAGER_NAME) != RequestNameReply.PRIMARY_OWNER:
            raise SystemExit(f"could not own {MANAGER_NAME}")

    if args.prompter:
        prompter = Prompter(bus, args.prompter, args.prompts)
        bus.add_message_handler(prompter.handle)
        if await bus.request_name(PROMPTER_NAME) != RequestNameReply.PRIMARY_OWNER:
            raise SystemExit(f"could not own {PROMPTER_NAME}")
        await watch_prompt_calls(args.bus, prompter)

    print("ready", flush=True)
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))
    await asyncio.wait([stop, asyncio.ensure_future(bus.wait_for_disconnect())], return_when=asyncio.FIRST_COMPLETED)


# ---------------------------------------------------------------------------------------------
# `control`: what $MCP_VAULT_TEST_DESKTOP_CONTROL runs


def control(args: argparse.Namespace) -> int:
    if args.action == "lock":
        asyncio.run(keyring_lock(args.bus))
    elif args.action == "unlock":
        with open(args.password_file, "rb") as f:
            asyncio.run(keyring_unlock(args.bus, f.read()))
    elif args.action == "locked":
        print("true" if asyncio.run(keyring_locked(args.bus)) else "false")
    elif args.action in ("prompts", "prompt-calls"):
        if not args.prompts:
            log("no --prompter in this session")
            return 2
        with open(args.prompts + ("-calls" if args.action == "prompt-calls" else "")) as f:
            print(f.read().strip())
    return 0


# ---------------------------------------------------------------------------------------------
# The session


class Session:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.uid, self.gid = os.getuid(), os.getgid()
        self.runtime = f"{RUN_USER}/{self.uid}"
        self.socket = f"{self.runtime}/bus"
        self.address = f"unix:path={self.socket}"
        self.work = ""  # made on the tmpfs, so that nothing is left behind even after a SIGKILL
        self.children: list[tuple[str, subprocess.Popen]] = []  # stopped in reverse order
        self.mounted = False
        self.logs: list[str] = []
        self.logs_printed = False
        self.password_file = self.prompts = None
        self.keyring: subprocess.Popen | None = None

    # -- pieces

    def start(self, name: str, argv: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
        logfile = os.path.join(self.work, f"{name}.log")
        self.logs.append(logfile)
        with open(logfile, "ab") as out:
            kwargs.setdefault("stdout", out)
            process = subprocess.Popen(argv, env=env, stderr=out, preexec_fn=die_with_parent, **kwargs)
        self.children.append((name, process))
        return process

    def mount_run_user(self) -> None:
        os.makedirs(RUN_USER, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "tmpfs", RUN_USER], check=True)
        self.mounted = True
        self.work = tempfile.mkdtemp(prefix=".desktop-session.", dir=RUN_USER)
        self.password_file = os.path.join(self.work, "keyring-password")
        self.prompts = os.path.join(self.work, "prompts") if self.args.prompter else None
        os.mkdir(self.runtime, 0o700)
        os.chown(self.runtime, self.uid, self.gid)
        os.chmod(self.runtime, 0o700)

    def daemon_env(self, **extra: str) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DBUS_SESSION_BUS_ADDRESS": self.address,
               "XDG_RUNTIME_DIR": self.runtime, "LANG": "C.UTF-8"}
        for name in ("USER", "LOGNAME"):
            if name in os.environ:
                env[name] = os.environ[name]
        env.update(extra)
        return env

    def start_bus(self) -> None:
        config = os.path.join(self.work, "session-bus.conf")
        with open(config, "w") as f:
            f.write(BUS_CONFIG.format(socket=self.socket))
        bus = self.start("dbus-daemon", ["dbus-daemon", "--nofork", f"--config-file={config}"],
                         {"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        self.wait_for(lambda: os.path.exists(self.socket), "dbus-daemon's socket", bus)

    def start_services(self) -> None:
        argv = [sys.executable, os.path.abspath(__file__), "serve", "--bus", self.address]
        if self.args.service_manager_env:
            argv += ["--env", *self.args.service_manager_env]
        if self.args.prompter:
            argv += ["--prompter", self.args.prompter, "--prompts", self.prompts]
        services = self.start("services", argv, self.daemon_env(), stdout=subprocess.PIPE)
        line = services.stdout.readline()
        if line.strip() != b"ready":
            raise SetupError(f"the fake desktop services did not start (exit {services.wait()})")

    def start_keyring(self) -> None:
        home = os.path.join(self.work, "keyring-home")
        os.makedirs(os.path.join(home, ".local", "share"), mode=0o700)
        with open(self.password_file, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(secrets.token_urlsafe(24).encode())
        env = self.daemon_env(HOME=home, XDG_DATA_HOME=os.path.join(home, ".local", "share"),
                              XDG_CONFIG_HOME=os.path.join(home, ".config"), XDG_CACHE_HOME=os.path.join(home, ".cache"))
        with open(self.password_file, "rb") as password:
            self.keyring = self.start("gnome-keyring-daemon",
                                      ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                                      env, stdin=password)
        self.wait_for(lambda: asyncio.run(has_owner(self.address, SECRETS)), "gnome-keyring-daemon on the bus",
                      self.keyring)
        # --unlock exits 0 even with a wrong password: prove the keyring works.
        probe = secrets.token_urlsafe(12)
        tool_env = self.daemon_env(HOME=home)
        attributes = ["mcp-vault-test-bed", "desktop-session-probe"]
        subprocess.run(["secret-tool", "store", "--label=mcp-vault test-bed probe", *attributes],
                       input=probe.encode(), env=tool_env, check=True, timeout=20)
        found = subprocess.run(["secret-tool", "lookup", *attributes], env=tool_env, capture_output=True,
                               timeout=20).stdout.decode()
        if found != probe:
            raise SetupError("the keyring did not return a stored secret")
        subprocess.run(["secret-tool", "clear", *attributes], env=tool_env, check=True, timeout=20)

    def wait_for(self, condition, what: str, process: subprocess.Popen, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SetupError(f"{what}: the process exited with status {process.returncode}")
            try:
                if condition():
                    return
            except Exception:
                pass
            time.sleep(0.05)
        raise SetupError(f"{what}: not there after {seconds:g} s")

    def write_control(self) -> str:
        path = os.path.join(self.work, "desktop-control")
        argv = [sys.executable, os.path.abspath(__file__), "control", "--bus", self.address,
                "--password-file", self.password_file] + (["--prompts", self.prompts] if self.prompts else [])
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\nexec {shlex.join(argv)} \"$@\"\n")
        os.chmod(path, 0o700)
        return path

    def command_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in STRIPPED}
        env["MCP_VAULT_TEST_BUS_ADDRESS"] = self.address
        env["MCP_VAULT_TEST_DESKTOP_CONTROL"] = self.write_control()
        if self.prompts:
            env["MCP_VAULT_TEST_PROMPTS"] = self.prompts
            env["MCP_VAULT_TEST_PROMPT_CALLS"] = self.prompts + "-calls"
        if self.keyring:
            env["MCP_VAULT_TEST_KEYRING_PID"] = str(self.keyring.pid)
        return env

    # -- the whole

    def run(self) -> int:
        self.mount_run_user()
        self.start_bus()
        if self.args.service_manager_env is not None or self.args.prompter:
            self.start_services()
        if self.args.keyring != "none":
            self.start_keyring()
        env = self.command_env()
        if self.args.setup_command:
            setup = subprocess.run(["sh", "-c", self.args.setup_command], env=env)
            if setup.returncode != 0:
                log(f"--setup-command exited with status {setup.returncode}")
                return exit_status(setup.returncode)
        if self.args.keyring == "locked":
            asyncio.run(keyring_lock(self.address))
            if not asyncio.run(keyring_locked(self.address)):
                raise SetupError("the login collection is still unlocked after Lock")
        for name, process in self.children:
            if process.poll() is not None:
                raise SetupError(f"{name} exited with status {process.returncode} before the command started")
        # A process group of its own, so that the teardown reaches whatever the command started.
        command = subprocess.Popen(self.args.command, env=env, preexec_fn=die_with_parent, start_new_session=True)
        self.children.append(("command", command))
        return exit_status(command.wait())

    def print_logs(self) -> None:
        if self.logs_printed:
            return
        self.logs_printed = True
        for path in self.logs:
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            if text.strip():
                print(f"--- {os.path.basename(path)}\n{text.rstrip()}", file=sys.stderr, flush=True)
        if self.prompts and os.path.exists(self.prompts + ".log"):
            with open(self.prompts + ".log") as f:
                print(f"--- prompter calls\n{f.read().rstrip()}", file=sys.stderr, flush=True)

    def close(self) -> None:
        died = [(name, process.returncode) for name, process in self.children
                if name != "command" and process.poll() is not None]
        for name, status in died:
            log(f"{name} exited with status {status} while the session ran")
        if died:
            self.print_logs()
        for name, process in reversed(self.children):
            group = name == "command"
            if group:
                signal_group(process.pid, signal.SIGTERM)
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a test may have frozen the keyring
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if group:
                signal_group(process.pid, signal.SIGKILL)
        if self.work:
            subprocess.run(["rm", "-rf", self.work], check=False)
        if self.mounted:
            subprocess.run(["umount", "--lazy", RUN_USER], check=False)


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def exit_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def reexec_in_namespace() -> None:
    """Replaces this process with itself in a new, private mount namespace."""
    argv = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        argv += ["--user", "--map-current-user"]  # needs unprivileged user namespaces
    env = dict(os.environ, **{NAMESPACE_MARK: mount_namespace()})
    try:
        os.execvpe(argv[0], argv + ["--", sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env)
    except OSError as e:
        log(f"cannot run unshare: {e}")
        sys.exit(69)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in ("serve", "control"):
        parser = argparse.ArgumentParser(prog=f"desktop_session.py {sys.argv[1]}")
        parser.add_argument("--bus", required=True)
        parser.add_argument("--prompts")
        if sys.argv[1] == "serve":
            parser.add_argument("--env", nargs="+")
            parser.add_argument("--prompter", choices=["hold"])
            args = parser.parse_args(sys.argv[2:])
            asyncio.run(serve(args))
            return 0
        parser.add_argument("--password-file", required=True)
        parser.add_argument("action", choices=["lock", "unlock", "locked", "prompts", "prompt-calls"])
        return control(parser.parse_args(sys.argv[2:]))

    usage = "%(prog)s [options] -- COMMAND [ARG ...]"
    parser = argparse.ArgumentParser(usage=usage, description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--keyring", choices=["unlocked", "locked", "none"], default="unlocked")
    parser.add_argument("--service-manager-env", action="append", metavar="NAME=VALUE",
                        help="start a fake systemd user manager whose Environment holds this (repeatable)")
    parser.add_argument("--prompter", choices=["hold"], help="start a fake gcr system prompter")
    parser.add_argument("--setup-command", metavar="SHELL-COMMAND", help="run by sh -c before COMMAND")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the daemons' logs at the end")
    parser.add_argument("command", nargs="+", metavar="COMMAND")
    args = parser.parse_args()
    for item in args.service_manager_env or []:
        if "=" not in item or item.startswith("="):
            parser.error(f"--service-manager-env {item!r}: expected NAME=VALUE")

    if os.environ.get(NAMESPACE_MARK) in (None, mount_namespace()):
        reexec_in_namespace()

    session = Session(args)
    status = 69

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        status = session.run()
    except SetupError as e:
        log(f"could not set up the session: {e}")
        session.print_logs()
    except subprocess.CalledProcessError as e:
        log(f"could not set up the session: {shlex.join(map(str, e.cmd))} exited with status {e.returncode}")
        session.print_logs()
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
    except Exception as e:
        log(f"could not set up the session: {type(e).__name__}: {e}")
        session.print_logs()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if args.verbose:
            session.print_logs()
        session.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
