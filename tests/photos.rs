//! Product photos: a phone's photo (4000 x 3000, EXIF orientation) sent through the API and
//! the console is stored once, turned upright and served at 360 and 720 px; the scan page
//! shows it sized and lazy and still fits in 14 KB compressed; HEIC is refused with a reason.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use image::{ImageEncoder, Rgb, RgbImage};
use sha2::{Digest, Sha256};

use crate::support::db::TestDb;
use crate::support::http::{FilePart, TestApp};
use crate::support::labels::mint;
use truyxuat::domain::people::Role;

const RED: Rgb<u8> = Rgb([220, 30, 30]);
const BLUE: Rgb<u8> = Rgb([30, 30, 220]);

/// An EXIF block (TIFF, big-endian) holding only an orientation.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = b"MM\0\x2a\0\0\0\x08".to_vec();
    exif.extend([0, 1]); // one entry
    exif.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1]); // Orientation, SHORT, count 1
    exif.extend(value.to_be_bytes());
    exif.extend([0, 0]);
    exif.extend([0, 0, 0, 0]); // no next IFD
    exif
}

/// A photo as a phone stores it: the sensor's 4000 x 3000 (left half red, right half blue)
/// with EXIF orientation 6, "turn 90 degrees clockwise to view": upright, red is on top.
pub fn phone_photo() -> Vec<u8> {
    let sensor = RgbImage::from_fn(4000, 3000, |x, _| if x < 2000 { RED } else { BLUE });
    let mut out = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    encoder.set_exif_metadata(exif_orientation(6)).unwrap();
    encoder.encode_image(&sensor).unwrap();
    out
}

fn near(pixel: &Rgb<u8>, expected: Rgb<u8>) -> bool {
    pixel
        .0
        .iter()
        .zip(expected.0)
        .all(|(a, b)| a.abs_diff(b) < 40)
}

async fn put_photo(
    app: &TestApp,
    product: i64,
    content_type: &str,
    bytes: &[u8],
) -> crate::support::http::Reply {
    app.send(
        Request::put(format!("/api/v1/products/{product}/photo"))
            .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(bytes.to_vec()))
            .unwrap(),
    )
    .await
}

fn decode(reply: &crate::support::http::Reply) -> RgbImage {
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("content-type"), "image/jpeg");
    image::load_from_memory(&reply.body_bytes)
        .unwrap()
        .to_rgb8()
}

#[tokio::test]
async fn a_phone_photo_is_upright_in_two_sizes_and_the_scan_page_stays_light() {
    upright_in_two_sizes(TestDb::sqlite().await).await;
}

mod postgres {
    #[tokio::test]
    async fn a_phone_photo_is_upright_in_two_sizes_and_the_scan_page_stays_light() {
        super::upright_in_two_sizes(super::TestDb::postgres().await).await;
    }
}

async fn upright_in_two_sizes(db: TestDb) {
    let app = TestApp::on_with_demo(db).await;
    let photo = phone_photo();
    let sha256 = hex::encode(Sha256::digest(&photo));
    let reply = put_photo(&app, 1, "image/jpeg", &photo).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let url = format!("/photos/{sha256}/720.jpg");
    assert_eq!(reply.json()["photo_url"], url.as_str());

    // Upright: the 3000 x 4000 picture fitted whole into 720 x 540 on white, red on top.
    let large = decode(&app.get(&url).await);
    assert_eq!(large.dimensions(), (720, 540));
    assert!(
        near(large.get_pixel(360, 60), RED),
        "{:?}",
        large.get_pixel(360, 60)
    );
    assert!(
        near(large.get_pixel(360, 480), BLUE),
        "{:?}",
        large.get_pixel(360, 480)
    );
    assert!(
        near(large.get_pixel(40, 270), Rgb([255, 255, 255])),
        "white beside it"
    );
    let small = decode(&app.get(&format!("/photos/{sha256}/360.jpg")).await);
    assert_eq!(small.dimensions(), (360, 270));
    assert!(near(small.get_pixel(180, 30), RED));
    let cached = app.get(&url).await;
    assert!(cached.header("cache-control").contains("immutable"));

    // The same photo again: the same address, nothing stored twice.
    let again = put_photo(&app, 1, "image/jpeg", &photo).await;
    assert_eq!(again.json()["photo_url"], url.as_str());
    let stored = app.db.store.document(&sha256).await.unwrap().unwrap();
    assert_eq!(
        stored.content, photo,
        "the file as sent, kept once by its SHA-256"
    );

    // The scan page: sized, lazy, both sizes offered, and still one small first response.
    let path = mint(&app, 1, 1, Some("CD-2026-10A")).await.remove(0);
    let raw = app.get_gzip(&path).await;
    eprintln!(
        "scan page with a photo: {} bytes gzip",
        raw.body_bytes.len()
    );
    assert!(
        raw.body_bytes.len() <= 14 * 1024,
        "{} bytes",
        raw.body_bytes.len()
    );
    let page = app.get(&path).await.html();
    let img = scraper::Selector::parse("#product img").unwrap();
    let img = page.select(&img).next().expect("the product photo");
    let small_url = format!("/photos/{sha256}/360.jpg");
    assert_eq!(img.attr("src"), Some(small_url.as_str()));
    assert_eq!(
        img.attr("srcset"),
        Some(format!("{small_url} 360w, {url} 720w").as_str())
    );
    assert_eq!(img.attr("width"), Some("360"));
    assert_eq!(img.attr("height"), Some("270"));
    assert_eq!(img.attr("loading"), Some("lazy"));
    // Link previews and schema.org get the photo's whole address.
    let whole = format!("http://127.0.0.1:8080{url}");
    let og = scraper::Selector::parse("meta[property='og:image']").unwrap();
    let og = page.select(&og).next().expect("og:image");
    assert_eq!(og.attr("content"), Some(whole.as_str()));
    let ld = scraper::Selector::parse("script[type='application/ld+json']").unwrap();
    let ld: serde_json::Value =
        serde_json::from_str(&page.select(&ld).next().unwrap().inner_html()).unwrap();
    assert_eq!(ld["image"], whole.as_str());
}

#[tokio::test]
async fn what_is_not_a_readable_photo_is_refused_with_a_reason() {
    let app = TestApp::with_demo().await;
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic and the rest";
    let reply = put_photo(&app, 1, "image/heic", heic).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{reply:?}");
    assert_eq!(reply.problem_fields(), ["photo"]);
    assert!(reply.body.contains("HEIC"), "{}", reply.body);
    let html = put_photo(&app, 1, "image/jpeg", b"<!--<script>alert(1)</script>").await;
    assert_eq!(html.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = put_photo(&app, 999_999, "image/jpeg", &phone_photo()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let product = app.db.store.product(1).await.unwrap().unwrap();
    assert_eq!(product.data.photo_url, None, "nothing changed");
}

#[tokio::test]
async fn an_editor_sends_a_photo_from_the_console_and_a_viewer_may_not() {
    let app = TestApp::with_demo().await;
    let editor = app.member("bientap.anh@example.vn", 1, Role::Editor).await;
    let photo = phone_photo();
    let file = || FilePart {
        field: "photo",
        file_name: "IMG_0001.JPG",
        content_type: "image/jpeg",
        bytes: &photo,
    };
    let sent = app
        .post_multipart("/console/products/1/photo", &[], Some(file()), &editor)
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{sent:?}");
    assert_eq!(sent.header("location"), "/console/products/1");
    let page = app
        .send(
            Request::get("/console/products/1")
                .header(header::COOKIE, &editor.cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let sha256 = hex::encode(Sha256::digest(&photo));
    assert!(
        page.body
            .contains(&format!("src=\"/photos/{sha256}/360.jpg\"")),
        "{}",
        page.body
    );
    // A form without a file says so beside the input.
    let empty = app
        .post_multipart("/console/products/1/photo", &[], None, &editor)
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        empty.texts("form#photo #photo-error"),
        ["Không được để trống"]
    );

    let viewer = app.member("xem.anh@example.vn", 1, Role::Viewer).await;
    let refused = app
        .post_multipart("/console/products/1/photo", &[], Some(file()), &viewer)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
