//! `notifications.yaml` on arbitrary text: a configuration or an error naming the file and
//! the field, never a panic. Every `*_env` variable resolves, so the checks after the
//! environment (URLs, ports, addresses, retry bounds) are reached too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::notify::NotifyConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = NotifyConfig::parse_with_env("notifications.yaml", text, |name| Some(format!("value-of-{name}")));
    }
});
