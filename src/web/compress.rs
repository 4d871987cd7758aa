//! Gzip for small responses, in one piece: a page of a few kilobytes leaves as one write
//! with its `Content-Length`, not as a chunked stream of compressor output. Bodies of unknown
//! or large size are left to tower-http's streaming `CompressionLayer`, which passes on what
//! this has already encoded.

use std::cell::RefCell;

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use libdeflater::{CompressionLvl, Compressor};

/// Bodies smaller than this gain too little to pay for the gzip framing.
const MIN_BYTES: u64 = 256;
/// Bodies larger than this are streamed instead of held whole.
const MAX_BYTES: u64 = 256 * 1024;

pub async fn small_responses(request: Request, next: Next) -> Response {
    let accepts = accepts_gzip(request.headers());
    let mut response = next.run(request).await;
    if !compressible(response.headers()) {
        return response;
    }
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    let size = response.body().size_hint().exact();
    if !accepts || !size.is_some_and(|s| (MIN_BYTES..=MAX_BYTES).contains(&s)) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(plain) = axum::body::to_bytes(body, MAX_BYTES as usize).await else {
        tracing::error!("a response body could not be read for compression");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let gzipped = gzip(&plain);
    if gzipped.is_empty() {
        return Response::from_parts(parts, Body::from(plain));
    }
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .insert(header::CONTENT_LENGTH, gzipped.len().into());
    Response::from_parts(parts, Body::from(gzipped))
}

/// At the fastest level, as nginx's default: pages are small and CPU is the scarce part.
/// libdeflate compresses a whole buffer at once, faster than a streaming zlib, and each
/// worker thread keeps its compressor. Empty when it cannot (then the body goes as it is).
fn gzip(plain: &[u8]) -> Vec<u8> {
    thread_local! {
        static GZIP: RefCell<Compressor> = RefCell::new(Compressor::new(CompressionLvl::new(1).unwrap_or_default()));
    }
    GZIP.with_borrow_mut(|compressor| {
        let mut out = vec![0; compressor.gzip_compress_bound(plain.len())];
        match compressor.gzip_compress(plain, &mut out) {
            Ok(written) => {
                out.truncate(written);
                out
            }
            Err(_) => Vec::new(),
        }
    })
}

/// Text that is not yet encoded.
fn compressible(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    let Some(kind) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let kind = kind.split(';').next().unwrap_or_default().trim();
    kind.starts_with("text/")
        || kind.ends_with("json")
        || kind.ends_with("+xml")
        || kind == "image/svg+xml"
        || kind == "application/javascript"
}

/// Whether `Accept-Encoding` names gzip (or `*`) with a weight above zero.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (name.eq_ignore_ascii_case("gzip")
                || name.eq_ignore_ascii_case("x-gzip")
                || name == "*")
                && weight > 0.0
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn gzip_is_accepted_unless_weighted_zero() {
        assert!(accepts_gzip(&accept("gzip, deflate, br")));
        assert!(accepts_gzip(&accept("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(&accept("*")));
        assert!(!accepts_gzip(&accept("gzip;q=0, br")));
        assert!(!accepts_gzip(&accept("br, identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    fn gunzip(gzipped: &[u8]) -> Vec<u8> {
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gzipped), &mut back).unwrap();
        back
    }

    #[test]
    fn the_output_is_gzip_that_inflates_back_each_time() {
        let page = "<p>Chè Ô Long · Lâm Đồng</p>".repeat(100);
        let gzipped = gzip(page.as_bytes());
        assert_eq!(gunzip(&gzipped), page.as_bytes());
        assert!(gzipped.len() < page.len() / 4, "{} bytes", gzipped.len());
        // The thread's compressor serves the next body too, even one that does not
        // compress.
        let noise: Vec<u8> = (0..50_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(gunzip(&gzip(&noise)), noise);
        assert_eq!(gunzip(&gzip(page.as_bytes())), page.as_bytes());
    }
}
