//! Real receivers for the notifier tests: an HTTP server (tiny_http) and an SMTP server
//! (mailin's protocol engine), both on loopback, recording what they were sent.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use mailin::{Action, AuthMechanism, Handler, Response, SessionBuilder};

/// How the HTTP receiver answers one request.
#[derive(Clone)]
pub struct Answer {
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
}

impl Answer {
    pub fn status(status: u16) -> Answer {
        Answer { status, body: String::new(), headers: Vec::new() }
    }

    pub fn body(mut self, body: &str) -> Answer {
        self.body = body.to_string();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// An HTTP server (tiny_http) answering the n-th request with the n-th answer, the last
/// one repeated.
pub struct HttpReceiver {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    server: Arc<tiny_http::Server>,
    requests: Arc<Mutex<Vec<Request>>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpReceiver {
    pub fn start(answers: Vec<Answer>) -> HttpReceiver {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("an HTTP server on 127.0.0.1"));
        let address = server.server_addr().to_ip().expect("an IP address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (serving, recording) = (server.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            for (index, mut request) in serving.incoming_requests().enumerate() {
                let mut body = Vec::new();
                request.as_reader().read_to_end(&mut body).expect("the request body");
                recording.lock().unwrap_or_else(PoisonError::into_inner).push(Request {
                    method: request.method().as_str().to_string(),
                    path: request.url().to_string(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|header| (header.field.as_str().to_string(), header.value.to_string()))
                        .collect(),
                    body,
                });
                let answer = &answers[index.min(answers.len() - 1)];
                let mut response =
                    tiny_http::Response::from_string(answer.body.clone()).with_status_code(answer.status);
                for (name, value) in &answer.headers {
                    response.add_header(
                        tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header"),
                    );
                }
                let _ = request.respond(response);
            }
        });
        HttpReceiver { url: format!("http://{address}"), server, requests, thread: Some(thread) }
    }

    pub fn received(&self) -> Vec<Request> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SmtpBehaviour {
    /// Refuse this recipient with 550.
    pub reject: Option<&'static str>,
    /// Answer the first n `MAIL FROM` with 451 (try again later).
    pub busy_first: usize,
    /// Require AUTH PLAIN or LOGIN with this user and password.
    pub login: Option<(&'static str, &'static str)>,
}

/// An SMTP server: mailin's protocol engine on a TCP listener, one thread per connection.
pub struct SmtpReceiver {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpReceiver {
    pub fn start(behaviour: SmtpBehaviour) -> SmtpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let port = listener.local_addr().expect("a local address").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let busy = Arc::new(Mutex::new(behaviour.busy_first));
        let mut builder = SessionBuilder::new("receiver.test");
        if behaviour.login.is_some() {
            builder.enable_auth(AuthMechanism::Plain).enable_auth(AuthMechanism::Login);
            // Over plain TCP on loopback: the test has no certificate to offer.
            builder.insecure_enable_plaintext_auth();
        }
        let recorder = Recorder { behaviour, mails: mails.clone(), busy, current: None };
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (builder, recorder) = (builder.clone(), recorder.clone());
                std::thread::spawn(move || serve(stream, &builder, recorder));
            }
        });
        SmtpReceiver { port, mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// One SMTP session: what mailin-embedded's session loop does, without TLS.
fn serve(stream: TcpStream, builder: &SessionBuilder, recorder: Recorder) {
    let remote = stream.peer_addr().map(|address| address.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let mut session = builder.build(remote, recorder);
    let mut writer = stream.try_clone().expect("a second handle on the stream");
    let mut reader = BufReader::new(stream);
    if session.greeting().write_to(&mut writer).is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        let written = match response.action {
            Action::NoReply => Ok(()),
            Action::Reply | Action::Close | Action::UpgradeTls => {
                response.write_to(&mut writer).and_then(|()| writer.flush())
            }
        };
        if written.is_err() || matches!(response.action, Action::Close | Action::UpgradeTls) {
            return;
        }
    }
}

#[derive(Clone)]
struct Recorder {
    behaviour: SmtpBehaviour,
    mails: Arc<Mutex<Vec<Mail>>>,
    busy: Arc<Mutex<usize>>,
    current: Option<Mail>,
}

impl Recorder {
    fn login(&self, user: &str, password: &str) -> Response {
        match self.behaviour.login {
            Some(expected) if expected == (user, password) => mailin::response::AUTH_OK,
            _ => mailin::response::INVALID_CREDENTIALS,
        }
    }
}

impl Handler for Recorder {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        let mut busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        if *busy > 0 {
            *busy -= 1;
            return Response::custom(451, "busy, try again later".to_string());
        }
        self.current = Some(Mail { from: from.to_string(), to: Vec::new(), data: String::new() });
        mailin::response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if self.behaviour.reject == Some(to) {
            return mailin::response::NO_MAILBOX;
        }
        mailin::response::OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        if let Some(mail) = &mut self.current {
            mail.to = to.to_vec();
        }
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(mail) = &mut self.current {
            mail.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(mail) = self.current.take() {
            self.mails.lock().unwrap_or_else(PoisonError::into_inner).push(mail);
        }
        mailin::response::OK
    }

    fn auth_plain(&mut self, _authorization_id: &str, authentication_id: &str, password: &str) -> Response {
        self.login(authentication_id, password)
    }

    fn auth_login(&mut self, username: &str, password: &str) -> Response {
        self.login(username, password)
    }
}

/// The mail as a reader sees it: headers unfolded, and the body decoded when it is
/// quoted-printable (lettre's choice once a line is longer than 76 characters).
pub fn read_mail(data: &str) -> (String, String) {
    let (headers, body) = data.split_once("\r\n\r\n").expect("headers, then a body");
    let headers = headers.replace("\r\n ", " ").replace("\r\n\t", " ").replace("\r\n", "\n");
    let body = if headers.lines().any(|line| line == "Content-Transfer-Encoding: quoted-printable") {
        decode_quoted_printable(body)
    } else {
        body.to_string()
    };
    (headers, body.replace("\r\n", "\n"))
}

/// RFC 2045 section 6.7: `=` at the end of a line joins it to the next; `=XX` is a byte.
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'=' && index + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).expect("ASCII");
            decoded.push(u8::from_str_radix(hex, 16).expect("=XX"));
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).expect("UTF-8 text")
}
