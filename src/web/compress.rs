//! Gzip for small responses, in one piece: a page of a few kilobytes leaves as one write
//! with its `Content-Length`, not as a chunked stream of compressor output. Bodies of unknown
//! or large size are left to tower-http's streaming `CompressionLayer`, which passes on what
//! this has already encoded.
//!
//! Pages that begin alike (the scan page's head with its inlined stylesheet, one per
//! language) begin with the same deflate blocks: those are compressed once, at start-up, and
//! each response compresses only the rest after them (RFC 1951 blocks may follow one another
//! from different compressors once the first ends on a byte boundary).

use std::cell::RefCell;
use std::sync::Arc;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flate2::{Compress, Compression, FlushCompress};
use libdeflater::{CompressionLvl, Compressor, Crc};

/// Bodies smaller than this gain too little to pay for the gzip framing.
const MIN_BYTES: u64 = 256;
/// Bodies larger than this are streamed instead of held whole.
const MAX_BYTES: u64 = 256 * 1024;

/// Beginnings many responses share, each with its deflate blocks.
pub struct SharedPrefixes(Vec<Prefix>);

struct Prefix {
    plain: Vec<u8>,
    /// Raw deflate blocks, none final, the last ending on a byte boundary.
    deflated: Vec<u8>,
}

impl SharedPrefixes {
    pub fn new(prefixes: impl IntoIterator<Item = String>) -> SharedPrefixes {
        SharedPrefixes(
            prefixes
                .into_iter()
                .filter_map(|plain| {
                    let deflated = deflate_unfinished(plain.as_bytes())?;
                    Some(Prefix {
                        plain: plain.into_bytes(),
                        deflated,
                    })
                })
                .collect(),
        )
    }

    fn of(&self, body: &[u8]) -> Option<&Prefix> {
        self.0.iter().find(|p| body.starts_with(&p.plain))
    }
}

/// Deflates `plain` at the best level into blocks that a later stream may continue: a sync
/// flush ends them with an empty stored block, on a byte boundary, none marked final.
fn deflate_unfinished(plain: &[u8]) -> Option<Vec<u8>> {
    let mut compress = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(plain.len() + 64);
    compress
        .compress_vec(plain, &mut out, FlushCompress::Sync)
        .ok()?;
    (compress.total_in() == plain.len() as u64).then_some(out)
}

pub async fn small_responses(
    State(prefixes): State<Arc<SharedPrefixes>>,
    request: Request,
    next: Next,
) -> Response {
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
    let gzipped = gzip(&plain, &prefixes);
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

/// The gzip header: deflate, no name, no time, unknown system (RFC 1952).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A gzip member of `plain`: the shared prefix's blocks if it has one, then the rest
/// deflated at the fastest level, as nginx's default (pages are small and CPU is the scarce
/// part). libdeflate compresses a whole buffer at once, and each worker thread keeps its
/// compressor. Empty when it cannot (then the body goes as it is).
fn gzip(plain: &[u8], prefixes: &SharedPrefixes) -> Vec<u8> {
    thread_local! {
        static DEFLATE: RefCell<Compressor> =
            RefCell::new(Compressor::new(CompressionLvl::new(1).unwrap_or_default()));
    }
    let (head, rest) = match prefixes.of(plain) {
        Some(prefix) => (&prefix.deflated[..], &plain[prefix.plain.len()..]),
        None => (&[][..], plain),
    };
    DEFLATE.with_borrow_mut(|compressor| {
        let bound = compressor.deflate_compress_bound(rest.len());
        let mut out = Vec::with_capacity(GZIP_HEADER.len() + head.len() + bound + 8);
        out.extend_from_slice(&GZIP_HEADER);
        out.extend_from_slice(head);
        let start = out.len();
        out.resize(start + bound, 0);
        let Ok(written) = compressor.deflate_compress(rest, &mut out[start..]) else {
            return Vec::new();
        };
        out.truncate(start + written);
        let mut crc = Crc::new();
        crc.update(plain);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        // ISIZE is the length modulo 2^32.
        out.extend_from_slice(&(plain.len() as u32).to_le_bytes());
        out
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

    fn none() -> SharedPrefixes {
        SharedPrefixes::new([])
    }

    #[test]
    fn the_output_is_gzip_that_inflates_back_each_time() {
        let page = "<p>Chè Ô Long · Lâm Đồng</p>".repeat(100);
        let gzipped = gzip(page.as_bytes(), &none());
        assert_eq!(gunzip(&gzipped), page.as_bytes());
        assert!(gzipped.len() < page.len() / 4, "{} bytes", gzipped.len());
        // The thread's compressor serves the next body too, even one that does not
        // compress.
        let noise: Vec<u8> = (0..50_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(gunzip(&gzip(&noise, &none())), noise);
        assert_eq!(gunzip(&gzip(page.as_bytes(), &none())), page.as_bytes());
    }

    #[test]
    fn a_shared_prefix_is_spliced_in_and_the_whole_inflates_back() {
        let head = format!("<!doctype html><style>{}</style>", "p{margin:0}".repeat(50));
        let prefixes = SharedPrefixes::new([head.clone(), "<!doctype html><p>".to_owned()]);
        for page in [
            format!("{head}<p>Chè Ô Long · Lâm Đồng</p>"),
            head.clone(),
            "<!doctype html><p>khác</p>".to_owned(),
            "no shared beginning".to_owned(),
        ] {
            let gzipped = gzip(page.as_bytes(), &prefixes);
            assert_eq!(gunzip(&gzipped), page.as_bytes(), "{page}");
        }
        let spliced = gzip(format!("{head}<p>Chè</p>").as_bytes(), &prefixes);
        assert!(spliced.len() < head.len() / 4, "{} bytes", spliced.len());
    }
}
