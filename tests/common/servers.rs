//! Servers the remote-store tests start on loopback (moto for S3, Python's http.server), each
//! stopped by its own pid when dropped, and the environment that points chunkwise at moto.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A server process started by a test, stopped (by its own pid) when dropped.
pub struct Server {
    child: Child,
    /// The loopback port it listens on.
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Starts `python3 args..` (with `{port}` replaced by a free port) and waits until it accepts
/// connections; panics with the server's own words when it exits or does not answer in time.
pub fn start(what: &str, args: &[&str], dir: &Path) -> Server {
    start_with_env(what, args, &[], dir)
}

/// [`start`] with environment variables `env` set for the server.
pub fn start_with_env(what: &str, args: &[&str], env: &[(&str, &str)], dir: &Path) -> Server {
    let port = free_port();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{port}", &port.to_string()))
        .collect();
    let log = dir.join(format!("{what}.log"));
    let child = Command::new("python3")
        .args(&args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("a log file"))
        .spawn()
        .unwrap_or_else(|e| panic!("{what} cannot start (python3 {args:?}): {e}"));
    let mut server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = server.child.try_wait().expect("waitable");
        if exited.is_some() || Instant::now() > deadline {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "{what} did not start (python3 {}): {said}\n(.ci/run installs it: \
                 pip install \"moto[server]\" tensorstore zarr)",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// The `chunkwise` binary with the AWS settings for the moto server at `port`.
pub fn chunkwise_s3(port: u16, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chunkwise"))
        .args(args)
        .envs(s3_env(port))
        .output()
        .expect("the binary runs")
}

pub fn s3_env(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
    ]
}
