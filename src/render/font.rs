//! The label font: DejaVu Sans (`assets/fonts/`, its licence beside it), which covers
//! Vietnamese. It is compiled into the binary, so printing never depends on the fonts of
//! the machine, and only the glyphs a print job uses are embedded in its PDF.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The font name in the PDF; the six-letter tag marks a subset, as PDF requires.
const SUBSET_NAME: &str = "TRUYXU+DejaVuSans";

/// What a label prints for a character the font has no glyph for (an emoji, a CJK name):
/// a visible mark, so that the print run goes ahead and the gap shows.
pub const PLACEHOLDER: char = '\u{25A1}'; // □

static FACE: LazyLock<Option<ttf_parser::Face<'static>>> =
    LazyLock::new(|| ttf_parser::Face::parse(DEJAVU_SANS, 0).ok());

/// Text as a label prints it: NFC (the form the font's cmap covers: precomposed "ạ", not
/// "a" + dot below), without controls or invisible formatting characters, and with
/// [`PLACEHOLDER`] for each character the font lacks.
pub fn normalize(text: &str) -> String {
    let covered = |c: char| FACE.as_ref().is_none_or(|f| f.glyph_index(c).is_some());
    use crate::domain::text::{is_bidi_control, is_zero_width};
    text.nfc()
        .filter(|&c| !c.is_control() && !is_bidi_control(c) && !is_zero_width(c))
        .map(|c| if covered(c) { c } else { PLACEHOLDER })
        .collect()
}

/// The glyphs of one print job, renumbered from 1, with their advance widths.
pub struct FontSubset {
    /// char -> (glyph id in the subset, advance in 1/1000 em)
    glyphs: BTreeMap<char, (u16, u16)>,
    program: Vec<u8>,
    ascent: i16,
    descent: i16,
    bbox: [i16; 4],
}

impl FontSubset {
    /// A subset holding every character of `texts` (normalised to NFC first).
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<FontSubset, String> {
        let face = ttf_parser::Face::parse(DEJAVU_SANS, 0)
            .map_err(|e| format!("the embedded font is unreadable: {e}"))?;
        let per_em = f64::from(face.units_per_em());
        let scale = |v: i16| (f64::from(v) * 1000.0 / per_em).round() as i16;
        let mut remapper = subsetter::GlyphRemapper::new();
        let mut glyphs = BTreeMap::new();
        for text in texts {
            for c in normalize(text).chars() {
                if glyphs.contains_key(&c) || c.is_control() {
                    continue;
                }
                let gid = face.glyph_index(c).ok_or_else(|| {
                    format!("the label font has no glyph for '{c}' (U+{:04X})", c as u32)
                })?;
                let advance = face.glyph_hor_advance(gid).unwrap_or(0);
                let width = (f64::from(advance) * 1000.0 / per_em).round() as u16;
                glyphs.insert(c, (remapper.remap(gid.0), width));
            }
        }
        let program = subsetter::subset(DEJAVU_SANS, 0, &remapper)
            .map_err(|e| format!("cannot subset the label font: {e}"))?;
        let b = face.global_bounding_box();
        Ok(FontSubset {
            glyphs,
            program,
            ascent: scale(face.ascender()),
            descent: scale(face.descender()),
            bbox: [
                scale(b.x_min),
                scale(b.y_min),
                scale(b.x_max),
                scale(b.y_max),
            ],
        })
    }

    /// Width of `text` in 1/1000 em (characters outside the subset count as nothing).
    pub fn width(&self, text: &str) -> f64 {
        text.chars()
            .filter_map(|c| self.glyphs.get(&c))
            .map(|&(_, w)| f64::from(w))
            .sum()
    }

    /// Appends `text` as a PDF hex string of 2-byte glyph ids (Identity-H).
    pub fn encode(&self, text: &str, out: &mut String) {
        out.push('<');
        for c in text.chars() {
            if let Some((gid, _)) = self.glyphs.get(&c) {
                let _ = write!(out, "{gid:04X}");
            }
        }
        out.push('>');
    }

    /// The font's PDF objects, numbered from `first`: the Type0 font (the one pages refer
    /// to, number `first`), its CID font, descriptor, font program and ToUnicode map.
    pub fn pdf_objects(&self, first: u32) -> Vec<(u32, Vec<u8>)> {
        let (cid, descriptor, file, to_unicode) = (first + 1, first + 2, first + 3, first + 4);
        let type0 = format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /{SUBSET_NAME} /Encoding /Identity-H \
             /DescendantFonts [{cid} 0 R] /ToUnicode {to_unicode} 0 R >>"
        );
        let mut widths = String::new();
        for (gid, width) in self.glyphs.values() {
            let _ = write!(widths, "{gid} [{width}] ");
        }
        let cid_font = format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{SUBSET_NAME} \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
             /FontDescriptor {descriptor} 0 R /DW 0 /W [{widths}] /CIDToGIDMap /Identity >>"
        );
        let [x0, y0, x1, y1] = self.bbox;
        let font_descriptor = format!(
            "<< /Type /FontDescriptor /FontName /{SUBSET_NAME} /Flags 32 \
             /FontBBox [{x0} {y0} {x1} {y1}] /ItalicAngle 0 /Ascent {} /Descent {} \
             /CapHeight {} /StemV 80 /FontFile2 {file} 0 R >>",
            self.ascent, self.descent, self.ascent
        );
        let mut font_file = format!(
            "<< /Length {} /Length1 {} >>\nstream\n",
            self.program.len(),
            self.program.len()
        )
        .into_bytes();
        font_file.extend_from_slice(&self.program);
        font_file.extend_from_slice(b"\nendstream");
        let mut cmap = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        let entries: Vec<_> = self.glyphs.iter().collect();
        for block in entries.chunks(100) {
            let _ = writeln!(cmap, "{} beginbfchar", block.len());
            for (c, (gid, _)) in block {
                let mut units = [0u16; 2];
                let hex: String = c
                    .encode_utf16(&mut units)
                    .iter()
                    .map(|u| format!("{u:04X}"))
                    .collect();
                let _ = writeln!(cmap, "<{gid:04X}> <{hex}>");
            }
            cmap.push_str("endbfchar\n");
        }
        cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend");
        let mut unicode = format!("<< /Length {} >>\nstream\n", cmap.len()).into_bytes();
        unicode.extend_from_slice(cmap.as_bytes());
        unicode.extend_from_slice(b"\nendstream");
        vec![
            (first, type0.into_bytes()),
            (cid, cid_font.into_bytes()),
            (descriptor, font_descriptor.into_bytes()),
            (file, font_file),
            (to_unicode, unicode),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_text_is_covered_and_subsetted() {
        let subset = FontSubset::new(["Gạo ST25 Sóc Trăng", "Lô: Đ-01"]).unwrap();
        assert!(subset.program.len() < DEJAVU_SANS.len() / 10);
        assert!(subset.width("Gạo") > subset.width("Ga"));
        let mut hex = String::new();
        subset.encode("Gạo", &mut hex);
        assert_eq!(hex.len(), 2 + 3 * 4);
        // Decomposed input is composed before lookup.
        assert_eq!(normalize("Ga\u{0323}o"), "Gạo");
        // A character the font lacks prints as a visible placeholder, not a refused run.
        assert_eq!(normalize("Mật ong 🍯\u{200B}漢\x1b"), "Mật ong □□");
        let with_emoji = FontSubset::new(["Mật ong 🍯🐝"]).unwrap();
        assert!(with_emoji.width("🍯") == 0.0 && with_emoji.width("□") > 0.0);
    }
}
