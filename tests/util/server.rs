//! A real `modelgate server` on 127.0.0.1 for the tests, and raw HTTP to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::stores::TestStore;
use super::{command, root, run, Run};

/// A server process and what a test needs to reach it.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub config: PathBuf,
}

impl Server {
    /// Starts `modelgate server --config DIR/server.toml` over `store`, alerting through
    /// `notifications` when given, and waits for it to listen.
    pub fn start(dir: &Path, store: &TestStore, notifications: Option<&Path>) -> Server {
        Server::start_with(dir, store, notifications, "")
    }

    /// [`Server::start`] with more lines of server.toml.
    pub fn start_with(dir: &Path, store: &TestStore, notifications: Option<&Path>, extra: &str) -> Server {
        let config = dir.join("server.toml");
        let mut text = format!(
            "listen = \"127.0.0.1:0\"\ndata = \"{}\"\nstore = \"{}\"\n",
            dir.join("data").display(),
            store.address()
        );
        if let Some(path) = notifications {
            text.push_str(&format!("notifications = \"{}\"\n", path.display()));
        }
        text.push_str(extra);
        std::fs::write(&config, text).expect("server.toml");
        let mut child = command(dir)
            .args(["server", "--config"])
            .arg(&config)
            .env("MODELGATE_WEBHOOK_SECRET", "s3cret")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the server says where");
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://") || word.starts_with("https://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        Server { child, url, config }
    }

    /// `modelgate server token create … --format json`: the secret.
    pub fn token(&self, args: &[&str]) -> String {
        let created = run(command(&root())
            .args(["server", "token", "create", "--config"])
            .arg(&self.config)
            .args(["--format", "json"])
            .args(args));
        assert_eq!(created.code, 0, "token create: {}", created.stderr);
        created.json()["token"].as_str().expect("token").to_string()
    }

    pub fn admin(&self, args: &[&str]) -> Run {
        let mut command = command(&root());
        command.args(["server"]).args(args).arg("--config").arg(&self.config);
        run(&mut command)
    }

    /// The binary in client mode, in the working folder `dir`, with `token`.
    pub fn client(&self, dir: &Path, token: &str, args: &[&str]) -> Run {
        run(command(dir).env("MODELGATE_SERVER", &self.url).env("MODELGATE_TOKEN", token).args(args))
    }

    /// One raw HTTP request: the status and the JSON body.
    pub fn http(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        http(&self.url, method, path, token, body).expect("the server answers")
    }

    /// SIGTERM, and the exit status.
    pub fn stop(mut self) -> i32 {
        let pid = self.child.id() as i32;
        // SAFETY-free: a signal to our own child.
        let killed = Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
        assert!(killed.success());
        self.child.wait().expect("wait").code().unwrap_or(-1)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One raw HTTP/1.1 request to `url`: the status and the JSON body; an error when the
/// connection fails or breaks (a server that was killed).
pub fn http(url: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> std::io::Result<(u16, Value)> {
    let (status, text) = http_text(url, method, path, token, body)?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// [`http`], the body as text.
pub fn http_text(
    url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address)?;
    let authorization = token.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{authorization}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {answer:?}")))?;
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    Ok((status, body.to_string()))
}
