//! With the `otel` feature and `otel_endpoint` set, the spans of a command reach an OTLP/HTTP
//! collector (a stand-in here that records what it is sent); without an endpoint nothing is
//! sent.

#![allow(clippy::unwrap_used)]

use rungs_tests::rungs_otel_bin;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

/// One request as the collector saw it: path, content type, body.
type Seen = (String, String, Vec<u8>);

fn collector() -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let (mut length, mut content_type) = (0usize, String::new());
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap_or((h, ""));
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    "content-type" => content_type = v.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            let _ = tx.send((path, content_type, body));
        }
    });
    (format!("http://{addr}/v1/traces"), rx)
}

#[test]
fn spans_are_exported_to_the_configured_collector() {
    let bin = rungs_otel_bin();
    let (endpoint, seen) = collector();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin)
        .current_dir(dir.path())
        .env_remove("RUNGS_DATABASE_URL")
        .env("RUNGS_OTEL_ENDPOINT", &endpoint)
        .env("RUNGS_LOG", "info")
        .arg("demo")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (path, content_type, body) = seen.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(path, "/v1/traces");
    assert_eq!(content_type, "application/x-protobuf");
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"rungs"), "the service name travels with the spans");
    assert!(has(b"create_org"), "the use case spans are exported");

    // Without an endpoint, the same build sends nothing.
    let out = Command::new(bin)
        .current_dir(dir.path())
        .env_remove("RUNGS_DATABASE_URL")
        .env_remove("RUNGS_OTEL_ENDPOINT")
        .args(["org", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(seen.recv_timeout(Duration::from_secs(2)).is_err());
}
