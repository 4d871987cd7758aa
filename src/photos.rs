//! Product photos: a phone's photo in, the two sizes the pages show out. The photo is turned
//! upright by its EXIF orientation and fitted, whole, into a 4:3 frame on white, so that
//! every page can give the image its width and height before it loads.

use std::io::Cursor;

use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};

use crate::domain::validation::{Refusal, Rule};

/// The sizes made, width by height: served as `/photos/{sha256}/360.jpg` and `…/720.jpg`.
pub const SMALL: (u32, u32) = (360, 270);
pub const LARGE: (u32, u32) = (720, 540);

/// Where an uploaded photo's sizes are served. A product keeps the large one's address as
/// its photo address; this is the one place that knows the addresses' shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    pub small: String,
    pub large: String,
    /// The small size's width and height, for pages to reserve its room.
    pub width: u32,
    pub height: u32,
}

impl Sizes {
    /// The addresses of the photo sent as the file with this SHA-256.
    pub fn of(sha256: &str) -> Sizes {
        Sizes {
            small: format!("/photos/{sha256}/{}", file_name(SMALL)),
            large: format!("/photos/{sha256}/{}", file_name(LARGE)),
            width: SMALL.0,
            height: SMALL.1,
        }
    }

    /// The sizes behind a product's photo address, if it is an uploaded photo's (it may be
    /// an address elsewhere, typed in the product form).
    pub fn from_address(address: &str) -> Option<Sizes> {
        let rest = address.strip_prefix("/photos/")?;
        let (sha256, file) = rest.split_once('/')?;
        (crate::domain::document::is_sha256(sha256) && file == file_name(LARGE))
            .then(|| Sizes::of(sha256))
    }
}

/// The file name a size is served under, `360.jpg`.
fn file_name((width, _): (u32, u32)) -> String {
    format!("{width}.jpg")
}

/// Which size `file` names (true for the large one), if it names one.
pub fn size_named(file: &str) -> Option<bool> {
    [(SMALL, false), (LARGE, true)]
        .into_iter()
        .find(|(size, _)| file_name(*size) == file)
        .map(|(_, large)| large)
}

/// The largest photo side read: a 50-megapixel phone's is 8,160 px.
const MAX_SIDE: u32 = 12_000;

/// A photo ready to store: the file as sent (by its sniffed type) and its two sizes as JPEG.
#[derive(Debug)]
pub struct Prepared {
    pub media_type: &'static str,
    pub small: Vec<u8>,
    pub large: Vec<u8>,
}

/// Reads a JPEG, PNG or WebP photo and makes its two sizes; the refusal says why, in words
/// for the person who chose the file.
pub fn prepare(content: &[u8]) -> Result<Prepared, Refusal> {
    let media_type = match crate::domain::document::sniff(content) {
        Some("application/pdf") | None if is_heif(content) => {
            return Err(Refusal::new(
                Rule::Heic,
                None,
                "HEIC/HEIF photos cannot be read yet: choose JPEG (on an iPhone, \
                 Settings > Camera > Formats > Most Compatible) or PNG",
            ));
        }
        Some(t) if t.starts_with("image/") => t,
        _ => {
            return Err(Refusal::new(
                Rule::NotAPhoto,
                None,
                "the file is not a JPEG, PNG or WebP photo",
            ));
        }
    };
    let unreadable = |e: &dyn std::fmt::Display| {
        Refusal::new(
            Rule::NotAPhoto,
            None,
            format!("the photo cannot be read: {e}"),
        )
    };
    let mut reader = ImageReader::new(Cursor::new(content))
        .with_guessed_format()
        .map_err(|e| unreadable(&e))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| unreadable(&e))?;
    // A photo without orientation (or with a broken EXIF block) is taken as it is stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut photo = DynamicImage::from_decoder(decoder).map_err(|e| unreadable(&e))?;
    photo.apply_orientation(orientation);
    Ok(Prepared {
        media_type,
        small: framed_jpeg(&photo, SMALL).map_err(|e| unreadable(&e))?,
        large: framed_jpeg(&photo, LARGE).map_err(|e| unreadable(&e))?,
    })
}

/// ISO base media files of the HEIF family (what iPhones take): `ftyp` then a HEIF brand.
fn is_heif(content: &[u8]) -> bool {
    content.len() >= 12
        && &content[4..8] == b"ftyp"
        && matches!(
            &content[8..12],
            b"heic" | b"heix" | b"hevc" | b"mif1" | b"msf1" | b"avif"
        )
}

/// The photo fitted whole into `width` x `height` on white, as a JPEG.
fn framed_jpeg(photo: &DynamicImage, (width, height): (u32, u32)) -> Result<Vec<u8>, String> {
    let fitted = photo.resize(width, height, FilterType::Triangle).to_rgb8();
    let mut frame = RgbImage::from_pixel(width, height, image::Rgb([255, 255, 255]));
    let x = (width - fitted.width()) / 2;
    let y = (height - fitted.height()) / 2;
    imageops::overlay(&mut frame, &fitted, i64::from(x), i64::from(y));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&frame)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploaded_photos_address_gives_both_sizes_and_others_give_none() {
        let sha = "ab".repeat(32);
        let sizes = Sizes::of(&sha);
        assert_eq!(sizes.small, format!("/photos/{sha}/360.jpg"));
        assert_eq!(Sizes::from_address(&sizes.large), Some(sizes));
        assert_eq!(Sizes::from_address("https://example.vn/che.jpg"), None);
        assert_eq!(Sizes::from_address(&format!("/photos/{sha}/360.jpg")), None);
        assert_eq!(Sizes::from_address("/photos/not-a-sha/720.jpg"), None);
        assert_eq!(size_named("720.jpg"), Some(true));
        assert_eq!(size_named("360.jpg"), Some(false));
        assert_eq!(size_named("1080.jpg"), None);
    }

    #[test]
    fn heic_and_other_files_are_refused_with_a_reason() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert!(prepare(heic).unwrap_err().message.contains("HEIC"));
        assert!(
            prepare(b"%PDF-1.7")
                .unwrap_err()
                .message
                .contains("not a JPEG")
        );
        assert!(
            prepare(b"\xFF\xD8\xFF\xE0 broken")
                .unwrap_err()
                .message
                .contains("cannot be read")
        );
    }
}
