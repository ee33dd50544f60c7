//! The harness of the interop tests: network namespaces made for one test,
//! the processes it runs in them, and a guard that takes all of it down
//! however the test ends.
//!
//! Every packet stays inside namespaces the test creates: synack's TUN is
//! made inside the test's namespace (by `synack serve|connect|get` run
//! there, or by `ip tuntap` there before), a second "kernel host"
//! namespace is joined to the first by a veth pair, and nothing is
//! configured in the namespace the tests run in. Every process runs under
//! `timeout`, in a process group of its own that the guard kills.
//!
//! Needs root, `/dev/net/tun`, iproute2 and the test's tools. Without them
//! a test says why and passes, unless `SYNACK_REQUIRE_NETNS=1` (CI), when
//! it fails.
#![allow(dead_code)] // each test binary uses its own part of the harness

use std::fs::File;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The binary under test.
pub const SYNACK: &str = env!("CARGO_BIN_EXE_synack");

/// The longest any process of a test may live: `timeout` ends it then even
/// if the test process itself was killed and its guard never ran.
const PROCESS_LIMIT: Duration = Duration::from_secs(240);

/// How long a server gets to start answering.
pub const READY_LIMIT: Duration = Duration::from_secs(20);

/// The tests take turns: they measure time, memory and packet counts on a
/// machine of two cores, and a SYN flood next door would spoil them all.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Why this machine cannot run a test that needs `tools`, if it cannot.
fn missing_requirement(tools: &[&str]) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    // "Uid: real effective saved fs"
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1));
    if euid != Some("0") {
        return Some("not running as root".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun does not exist".into());
    }
    for tool in ["ip", "timeout", "kill", "ss"].iter().chain(tools) {
        if !on_path(tool) {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    None
}

fn on_path(tool: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| {
        let p = dir.join(tool);
        p.is_file()
            && std::fs::metadata(&p).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.permissions().mode() & 0o111 != 0
            })
    })
}

/// Skips (prints why) or, with `SYNACK_REQUIRE_NETNS=1`, fails.
fn skip(test: &str, why: &str) {
    if std::env::var("SYNACK_REQUIRE_NETNS").as_deref() == Ok("1") {
        panic!("SYNACK_REQUIRE_NETNS=1 but {test} cannot run: {why}");
    }
    println!("skipping {test}: {why} (SYNACK_REQUIRE_NETNS=1 makes this a failure)");
}

/// What a finished process left.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Panics with everything the process said unless it exited 0.
    pub fn expect_success(self, what: &str) -> Finished {
        assert!(
            self.status.success(),
            "{what}: {}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            String::from_utf8_lossy(&self.stdout[..self.stdout.len().min(4096)]),
            self.stderr
        );
        self
    }
}

/// A process the lab started; its output goes to files in the lab's
/// directory.
struct Proc {
    label: String,
    child: Child,
    reaped: bool,
}

/// One test's network namespaces, temporary directory and processes.
/// Dropping it kills the processes (their whole process groups), deletes
/// the namespaces (and with them the TUN and veth devices inside) and the
/// directory.
pub struct Lab {
    test: String,
    /// The test's main namespace: synack's TUN and the kernel's tools.
    pub ns: String,
    namespaces: Vec<String>,
    pub dir: PathBuf,
    procs: Vec<Proc>,
    serial: u32,
    // Dropped last: the next test starts after this one is cleaned up.
    _turn: MutexGuard<'static, ()>,
}

/// A process started with [`Lab::spawn`].
#[derive(Copy, Clone, Debug)]
pub struct ProcId(usize);

impl Lab {
    /// The lab of test `test`, or `None` when the machine cannot run it
    /// (after saying why; a failure under `SYNACK_REQUIRE_NETNS=1`).
    pub fn new(test: &str, tools: &[&str]) -> Option<Lab> {
        if let Some(why) = missing_requirement(tools) {
            skip(test, &why);
            return None;
        }
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let pid = std::process::id();
        let dir = std::env::temp_dir().join(format!("synack-interop-{pid}-{test}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("make the test's directory");
        let mut lab = Lab {
            test: test.to_owned(),
            ns: String::new(),
            namespaces: Vec::new(),
            dir,
            procs: Vec::new(),
            serial: 0,
            _turn: turn,
        };
        match lab.add_netns("a") {
            Ok(ns) => lab.ns = ns,
            Err(why) => {
                skip(test, &why);
                return None;
            }
        }
        Some(lab)
    }

    /// Makes another namespace, `synack-PID-TEST-SUFFIX`, deleted with
    /// the lab.
    pub fn add_netns(&mut self, suffix: &str) -> Result<String, String> {
        let name = format!("synack-{}-{}-{suffix}", std::process::id(), self.test);
        // A namespace left by an earlier run of the same pid.
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .map_err(|e| format!("cannot run `ip netns add`: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`ip netns add {name}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        self.namespaces.push(name.clone());
        Ok(name)
    }

    /// A path in the lab's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `ip ARGS` (iproute2, run here: use `-n NS` to reach a namespace);
    /// panics if it fails.
    pub fn ip(&self, args: &[&str]) {
        let out = Command::new("ip").args(args).output().expect("run ip");
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }

    /// Starts `args` in namespace `ns` (under `timeout`, in a process
    /// group of its own), stdin from `stdin` or nothing, stdout and stderr
    /// to `LABEL.out` and `LABEL.err` in the lab's directory.
    pub fn spawn_in(
        &mut self,
        ns: &str,
        label: &str,
        args: &[&str],
        stdin: Option<&Path>,
        cwd: Option<&Path>,
    ) -> ProcId {
        self.serial += 1;
        let label = format!("{:02}-{label}", self.serial);
        let out = File::create(self.path(&format!("{label}.out"))).unwrap();
        let err = File::create(self.path(&format!("{label}.err"))).unwrap();
        let stdin = match stdin {
            Some(p) => Stdio::from(File::open(p).unwrap_or_else(|e| panic!("{p:?}: {e}"))),
            None => Stdio::null(),
        };
        let limit = PROCESS_LIMIT.as_secs().to_string();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, "timeout", "-k", "5", &limit])
            .args(args)
            .stdin(stdin)
            .stdout(out)
            .stderr(err)
            .process_group(0);
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", args.join(" ")));
        self.procs.push(Proc {
            label,
            child,
            reaped: false,
        });
        ProcId(self.procs.len() - 1)
    }

    /// [`Lab::spawn_in`] the main namespace.
    pub fn spawn(&mut self, label: &str, args: &[&str]) -> ProcId {
        let ns = self.ns.clone();
        self.spawn_in(&ns, label, args, None, None)
    }

    /// Runs `args` in `ns` to the end, for at most `limit`; panics if it
    /// runs longer.
    pub fn run_in(
        &mut self,
        ns: &str,
        label: &str,
        args: &[&str],
        stdin: Option<&Path>,
        limit: Duration,
    ) -> Finished {
        let id = self.spawn_in(ns, label, args, stdin, None);
        self.wait(id, limit)
            .unwrap_or_else(|| panic!("`{}` still running after {limit:?}", args.join(" ")))
    }

    /// [`Lab::run_in`] the main namespace.
    pub fn run(&mut self, label: &str, args: &[&str], limit: Duration) -> Finished {
        let ns = self.ns.clone();
        self.run_in(&ns, label, args, None, limit)
    }

    /// Waits up to `limit` for `id` to exit; `None` if it has not (it is
    /// left running).
    pub fn wait(&mut self, id: ProcId, limit: Duration) -> Option<Finished> {
        let start = Instant::now();
        let deadline = start + limit;
        loop {
            if let Some(status) = self.try_wait(id) {
                return Some(self.finished(id, status, start.elapsed()));
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn try_wait(&mut self, id: ProcId) -> Option<ExitStatus> {
        let p = &mut self.procs[id.0];
        let status = p.child.try_wait().expect("wait for a child")?;
        p.reaped = true;
        Some(status)
    }

    /// Whether `id` is still running.
    pub fn running(&mut self, id: ProcId) -> bool {
        !self.procs[id.0].reaped && self.try_wait(id).is_none()
    }

    fn finished(&self, id: ProcId, status: ExitStatus, elapsed: Duration) -> Finished {
        Finished {
            status,
            stdout: std::fs::read(self.out_path(id)).unwrap_or_default(),
            stderr: self.stderr(id),
            elapsed,
        }
    }

    pub fn out_path(&self, id: ProcId) -> PathBuf {
        self.path(&format!("{}.out", self.procs[id.0].label))
    }

    /// What `id` wrote to stderr so far.
    pub fn stderr(&self, id: ProcId) -> String {
        let p = self.path(&format!("{}.err", self.procs[id.0].label));
        String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned()
    }

    /// Sends `signal` (a name for kill(1), e.g. "INT") to `id`'s process
    /// group, then waits up to `limit` for it to exit.
    pub fn stop(&mut self, id: ProcId, signal: &str, limit: Duration) -> Option<Finished> {
        if self.try_wait(id).is_none() {
            signal_group(&self.procs[id.0].child, signal);
        }
        self.wait(id, limit)
    }

    /// The pid of the program `id` runs (the child of its `timeout`).
    pub fn program_pid(&self, id: ProcId) -> Option<u32> {
        let timeout_pid = self.procs[id.0].child.id();
        let out = Command::new("pgrep")
            .args(["-P", &timeout_pid.to_string()])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// Polls `probe` every 20 ms until it returns `Some`, for at most
    /// `limit`, while `id` (if given) keeps running; panics otherwise.
    pub fn poll<T>(
        &mut self,
        what: &str,
        id: Option<ProcId>,
        limit: Duration,
        mut probe: impl FnMut(&mut Lab) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(v) = probe(self) {
                return v;
            }
            if let Some(id) = id {
                if let Some(status) = self.try_wait(id) {
                    panic!(
                        "{what}: the process exited ({status}):\n{}",
                        self.stderr(id)
                    );
                }
            }
            assert!(Instant::now() < deadline, "{what}: not after {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until something in `ns` listens on TCP `port` (kernel
    /// servers).
    pub fn wait_listening(&mut self, ns: &str, port: u16, id: ProcId) {
        let filter = format!("sport = :{port}");
        let ns = ns.to_owned();
        self.poll(
            &format!("a listener on port {port}"),
            Some(id),
            READY_LIMIT,
            |_| {
                let out = Command::new("ip")
                    .args(["netns", "exec", &ns, "ss", "-Hltn", &filter])
                    .output()
                    .ok()?;
                (!out.stdout.is_empty()).then_some(())
            },
        )
    }

    /// Starts `synack serve` in the main namespace with `args` (after
    /// `--tun TUN --control PATH`) and waits until `synack netstat`
    /// answers, which is after its TUN is up and its port listens.
    pub fn serve(&mut self, tun: &str, args: &[&str]) -> Serve {
        let control = self.path(&format!("{tun}.sock"));
        let control_s = control.to_str().unwrap().to_owned();
        let mut full = vec![SYNACK, "serve", "--tun", tun, "--control", &control_s];
        full.extend_from_slice(args);
        let id = self.spawn("synack-serve", &full);
        let started = Instant::now();
        let ns = self.ns.clone();
        self.poll(
            "synack serve answering netstat",
            Some(id),
            READY_LIMIT,
            |_| netstat_at(&ns, &control),
        );
        let pid = self.program_pid(id).expect("the pid of synack serve");
        println!(
            "[{}] synack serve {} (pid {pid}) ready after {:.0?}",
            self.test,
            args.join(" "),
            started.elapsed()
        );
        Serve { id, pid, control }
    }

    /// The running `synack serve`'s `netstat` text.
    pub fn netstat(&self, serve: &Serve) -> String {
        netstat_at(&self.ns, &serve.control).expect("synack netstat answers")
    }

    /// Creates TUN device `tun` in the main namespace before synack runs
    /// (`connect` and `get` attach to it), with the kernel's address on it,
    /// so kernel servers can bind that address first.
    pub fn precreate_tun(&self, tun: &str, kernel_addr: &str) {
        let ns = self.ns.as_str();
        self.ip(&["-n", ns, "tuntap", "add", "dev", tun, "mode", "tun"]);
        self.ip(&["-n", ns, "addr", "add", kernel_addr, "dev", tun]);
        self.ip(&["-n", ns, "link", "set", tun, "up"]);
    }

    /// A second namespace, a "kernel host", joined to the main one by a
    /// veth pair: `main_addr` (IP/PREFIX) on the main side, `host_addr` on
    /// the other.
    pub fn kernel_host(&mut self, main_addr: &str, host_addr: &str) -> String {
        let host = self.add_netns("k").unwrap_or_else(|e| panic!("{e}"));
        let main = self.ns.clone();
        self.ip(&[
            "-n", &main, "link", "add", "vm", "type", "veth", "peer", "name", "vk", "netns", &host,
        ]);
        self.ip(&["-n", &main, "addr", "add", main_addr, "dev", "vm"]);
        self.ip(&["-n", &main, "link", "set", "vm", "up"]);
        self.ip(&["-n", &host, "addr", "add", host_addr, "dev", "vk"]);
        self.ip(&["-n", &host, "link", "set", "vk", "up"]);
        self.ip(&["-n", &host, "link", "set", "lo", "up"]);
        host
    }

    /// Routes everything the kernel host sends back through the main
    /// namespace (`gateway`, its veth address), so it answers any source
    /// address; the main namespace forwards nothing, so those answers end
    /// there. Add it after the host's servers listen: python's http.server
    /// looks its own address up in DNS as it binds (`socket.getfqdn`),
    /// which fails at once with no route and waits out two 5 s timeouts
    /// with one.
    pub fn route_back(&self, host: &str, gateway: &str) {
        self.ip(&["-n", host, "route", "add", "default", "via", gateway]);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for i in 0..self.procs.len() {
            let id = ProcId(i);
            if self.procs[i].reaped || self.try_wait(id).is_some() {
                continue;
            }
            // The program first: its parent `timeout` then reaps it and
            // exits, so no zombie is left for init to find.
            if let Some(pid) = self.program_pid(id) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
            // Then the whole group at once (a tool's own helpers, a
            // program under a nested `timeout --foreground`, and `timeout`
            // itself), while its leader is unreaped and the group is
            // surely still ours: once `timeout` has been reaped, what was
            // left of its group could no longer be reached.
            let p = &mut self.procs[i];
            signal_group(&p.child, "KILL");
            let _ = p.child.wait();
            p.reaped = true;
        }
        for ns in &self.namespaces {
            let deleted = Command::new("ip").args(["netns", "del", ns]).status();
            if !deleted.is_ok_and(|s| s.success()) {
                eprintln!("warning: could not delete network namespace {ns}");
            }
        }
        if std::env::var_os("SYNACK_KEEP_LAB").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("kept {}", self.dir.display());
        }
    }
}

/// `kill -SIGNAL -- -PGID` for a child that leads its own process group
/// (and has not been reaped, so the group is still its).
fn signal_group(child: &Child, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
}

fn netstat_at(ns: &str, control: &Path) -> Option<String> {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, SYNACK, "netstat", "--control"])
        .arg(control)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A running `synack serve`.
pub struct Serve {
    pub id: ProcId,
    /// synack's own pid (for /proc/PID/status).
    pub pid: u32,
    pub control: PathBuf,
}

/// A counter from `synack netstat` text (0 when it is not listed: netstat
/// prints only those that are not zero).
pub fn counter(netstat: &str, name: &str) -> u64 {
    netstat
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next()? == name).then(|| w.next()?.parse().ok())?
        })
        .next()
        .unwrap_or(0)
}

/// A `VmHWM`-style line of /proc/PID/status, in KiB.
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Writes `len` pseudo-random bytes (xorshift from `seed`) to `path`.
pub fn write_random(path: &Path, len: usize, seed: u64) {
    let mut x = seed | 1;
    let mut f = std::io::BufWriter::new(File::create(path).unwrap());
    let mut left = len;
    let mut block = [0u8; 8192];
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len());
        f.write_all(&block[..n]).unwrap();
        left -= n;
    }
    f.flush().unwrap();
}

/// The length and SHA-256 (hex) of a file.
pub fn sha256_file(path: &Path) -> (u64, String) {
    let mut f = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h).unwrap();
    (n, hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Asserts that `got` has the bytes of `want`, and prints both.
pub fn assert_same_file(what: &str, want: &Path, got: &Path) {
    let (wn, wh) = sha256_file(want);
    let (gn, gh) = sha256_file(got);
    println!("  {what}: sent {wn} bytes sha256 {wh}");
    println!(
        "  {what}: got  {gn} bytes sha256 {gh} ({})",
        if (wn, &wh) == (gn, &gh) {
            "equal"
        } else {
            "DIFFERENT"
        }
    );
    assert_eq!((gn, gh), (wn, wh), "{what}: the bytes differ");
}
