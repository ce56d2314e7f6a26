//! A real browser for the tests: Debian's `chromium`, headless, driven through its
//! `chromedriver` over WebDriver (fantoccini). A missing browser or driver fails the test:
//! `.ci/run` installs both (`.ci/chromium.sh`).
//!
//! Every request to anything but the loopback address goes to a proxy that is not there
//! (`--proxy-server=127.0.0.1:9`), so a page that reaches out fails visibly: its request is
//! in [`Browser::requests`] and its failure in [`Browser::console_errors`].

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
}

/// chromedriver's log endpoint (`browser`: the console; `performance`: DevTools events).
#[derive(Debug)]
struct Log(&'static str);

impl WebDriverCompatibleCommand for Log {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({"type": self.0}).to_string()))
    }
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless chromium session.
    pub fn start() -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).is_file(),
                "{program} is missing: install Debian's chromium and chromium-driver (bash .ci/chromium.sh)"
            );
        }
        let port =
            TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let address = format!("http://127.0.0.1:{port}");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,1000", "--hide-scrollbars", "--no-first-run",
                    "--proxy-server=http://127.0.0.1:9", "--disable-background-networking",
                    "--disable-component-update", "--disable-domain-reliability", "--disable-sync",
                ],
            }),
        );
        capabilities.insert("goog:loggingPrefs".into(), json!({"browser": "ALL", "performance": "ALL"}));
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let attempt =
                runtime.block_on(ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&address));
            match attempt {
                Ok(client) => break client,
                Err(error) if started.elapsed() > Duration::from_secs(30) => {
                    panic!("no chromium session through chromedriver on {address}: {error}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        Browser { runtime, client: Some(client), driver }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("an open session")
    }

    pub fn goto(&self, url: &str) {
        self.runtime.block_on(self.client().goto(url)).unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    }

    pub fn url(&self) -> String {
        self.runtime.block_on(self.client().current_url()).expect("current url").to_string()
    }

    pub fn title(&self) -> String {
        self.runtime.block_on(self.client().title()).expect("title")
    }

    /// The page's text as the browser renders it.
    pub fn text(&self) -> String {
        let body = self.runtime.block_on(self.client().find(Locator::Css("body"))).expect("a body");
        self.runtime.block_on(body.text()).expect("body text")
    }

    /// The `href` of every link matching `css`.
    pub fn links(&self, css: &str) -> Vec<String> {
        let elements = self.runtime.block_on(self.client().find_all(Locator::Css(css))).expect("find links");
        elements.iter().filter_map(|element| self.runtime.block_on(element.attr("href")).ok().flatten()).collect()
    }

    /// The element matching `css` (it must be there).
    fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.runtime
            .block_on(self.client().find(Locator::Css(css)))
            .unwrap_or_else(|error| panic!("no element {css}: {error}"))
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.runtime.block_on(self.client().find_all(Locator::Css(css))).expect("find").len()
    }

    pub fn click(&self, css: &str) {
        let element = self.element(css);
        self.runtime.block_on(element.click()).unwrap_or_else(|error| panic!("cannot click {css}: {error}"));
    }

    /// Clicks `css` (a submit button or a link) and waits until the browser is at another
    /// page (up to 10 s).
    pub fn navigate_by(&self, css: &str) {
        let before = self.url();
        self.click(css);
        let started = Instant::now();
        while self.url() == before {
            assert!(started.elapsed() < Duration::from_secs(10), "clicking {css} on {before} led nowhere");
            std::thread::sleep(Duration::from_millis(50));
        }
        // The new page is loaded once its body is there.
        let _ = self.runtime.block_on(self.client().wait().for_element(Locator::Css("body")));
    }

    /// Types `text` into the field matching `css`.
    pub fn fill(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.runtime
            .block_on(element.send_keys(text))
            .unwrap_or_else(|error| panic!("cannot type into {css}: {error}"));
    }

    /// The rendered text of every element matching `css`.
    pub fn texts(&self, css: &str) -> Vec<String> {
        let elements = self.runtime.block_on(self.client().find_all(Locator::Css(css))).expect("find");
        elements.iter().map(|element| self.runtime.block_on(element.text()).expect("text")).collect()
    }

    /// The values of the options of the `<select>` matching `css`.
    pub fn option_values(&self, css: &str) -> Vec<String> {
        let options = self
            .runtime
            .block_on(self.client().find_all(Locator::Css(&format!("{css} option"))))
            .expect("find options");
        options
            .iter()
            .filter_map(|option| self.runtime.block_on(option.attr("value")).ok().flatten())
            .filter(|value| !value.is_empty())
            .collect()
    }

    /// Picks `value` in the `<select>` matching `css`.
    pub fn select(&self, css: &str, value: &str) {
        let element = self.element(css);
        self.runtime
            .block_on(element.select_by_value(value))
            .unwrap_or_else(|error| panic!("cannot select {value} in {css}: {error}"));
    }

    /// A PNG of the whole page (the window grown to the page's height), written to `path`.
    pub fn screenshot(&self, path: &Path) {
        let height = self
            .runtime
            .block_on(self.client().execute("return document.documentElement.scrollHeight", vec![]))
            .ok()
            .and_then(|value| value.as_u64())
            .unwrap_or(1000)
            .clamp(600, 8000);
        let _ = self.runtime.block_on(self.client().set_window_size(1280, height as u32 + 120));
        let png = self.runtime.block_on(self.client().screenshot()).expect("screenshot");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("screenshot written");
        let _ = self.runtime.block_on(self.client().set_window_size(1280, 1000));
    }

    /// A PNG of what the window shows (1280×1000, the top of the page), written to `path`.
    pub fn screenshot_top(&self, path: &Path) {
        let png = self.runtime.block_on(self.client().screenshot()).expect("screenshot");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("screenshot written");
    }

    /// Console messages at level SEVERE since the last call (failed loads included).
    pub fn console_errors(&self) -> Vec<String> {
        self.log("browser")
            .into_iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Every URL the page requested since the last call (from the DevTools events).
    pub fn requests(&self) -> Vec<String> {
        self.log("performance")
            .into_iter()
            .filter_map(|entry| serde_json::from_str::<Value>(entry["message"].as_str()?).ok())
            .filter(|message| message["message"]["method"] == "Network.requestWillBeSent")
            .filter_map(|message| message["message"]["params"]["request"]["url"].as_str().map(str::to_string))
            .collect()
    }

    fn log(&self, kind: &'static str) -> Vec<Value> {
        let answer = self.runtime.block_on(self.client().issue_cmd(Log(kind))).expect("chromedriver log");
        answer.as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where a test run writes its screenshots for review: `target/screenshots/NAME.png`.
pub fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots").join(format!("{name}.png"))
}
