//! The app's own files (style sheet, htmx), compiled into the binary and served under a name
//! that carries a hash of their content, so that browsers may keep them for a year.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

struct Asset {
    /// `name.<hash>.ext`
    path: String,
    bytes: &'static [u8],
    content_type: &'static str,
}

fn asset(stem: &str, ext: &str, bytes: &'static [u8], content_type: &'static str) -> Asset {
    let hash = URL_SAFE_NO_PAD.encode(&Sha256::digest(bytes)[..9]);
    Asset {
        path: format!("{stem}.{hash}.{ext}"),
        bytes,
        content_type,
    }
}

static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        asset(
            "app",
            "css",
            include_bytes!("../assets/app.css"),
            "text/css; charset=utf-8",
        ),
        asset(
            "htmx-2.0.11",
            "js",
            include_bytes!("../assets/vendor/htmx-2.0.11.min.js"),
            "text/javascript; charset=utf-8",
        ),
    ]
});

/// The URLs pages link to.
#[derive(Debug, Clone)]
pub(crate) struct Urls {
    pub css: String,
    pub htmx: String,
}

pub(crate) fn urls() -> Urls {
    let [css, htmx] = &*ASSETS;
    let url = |a: &Asset| format!("/assets/{}", a.path);
    Urls {
        css: url(css),
        htmx: url(htmx),
    }
}

pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.path == file) {
        Some(a) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(a.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            a.bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}
