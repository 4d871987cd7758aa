//! The 34 provincial-level units in force since 2025-07-01 (Resolution 202/2025/QH15).

use serde::Serialize;

use super::text::fold;

/// A province or centrally-governed city, identified by a stable ASCII slug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Province {
    #[schema(value_type = String)]
    pub slug: &'static str,
    /// The name with its diacritics, as a shopper reads it.
    #[schema(value_type = String)]
    pub name: &'static str,
}

const fn p(slug: &'static str, name: &'static str) -> Province {
    Province { slug, name }
}

/// All 34, cities first, then provinces, north to south.
pub const PROVINCES: [Province; 34] = [
    p("ha-noi", "Hà Nội"),
    p("hue", "Huế"),
    p("hai-phong", "Hải Phòng"),
    p("da-nang", "Đà Nẵng"),
    p("ho-chi-minh", "Hồ Chí Minh"),
    p("can-tho", "Cần Thơ"),
    p("tuyen-quang", "Tuyên Quang"),
    p("cao-bang", "Cao Bằng"),
    p("lai-chau", "Lai Châu"),
    p("lao-cai", "Lào Cai"),
    p("thai-nguyen", "Thái Nguyên"),
    p("dien-bien", "Điện Biên"),
    p("lang-son", "Lạng Sơn"),
    p("son-la", "Sơn La"),
    p("phu-tho", "Phú Thọ"),
    p("bac-ninh", "Bắc Ninh"),
    p("quang-ninh", "Quảng Ninh"),
    p("hung-yen", "Hưng Yên"),
    p("ninh-binh", "Ninh Bình"),
    p("thanh-hoa", "Thanh Hóa"),
    p("nghe-an", "Nghệ An"),
    p("ha-tinh", "Hà Tĩnh"),
    p("quang-tri", "Quảng Trị"),
    p("quang-ngai", "Quảng Ngãi"),
    p("gia-lai", "Gia Lai"),
    p("khanh-hoa", "Khánh Hòa"),
    p("lam-dong", "Lâm Đồng"),
    p("dak-lak", "Đắk Lắk"),
    p("dong-nai", "Đồng Nai"),
    p("tay-ninh", "Tây Ninh"),
    p("vinh-long", "Vĩnh Long"),
    p("dong-thap", "Đồng Tháp"),
    p("ca-mau", "Cà Mau"),
    p("an-giang", "An Giang"),
];

/// Finds a province by slug or by name, with or without diacritics, "Tỉnh"/"Thành phố"
/// prefixes and the "TP." abbreviation.
pub fn find(input: &str) -> Option<Province> {
    let folded = fold(input);
    let folded = ["tinh ", "thanh pho ", "tp. ", "tp "]
        .iter()
        .find_map(|prefix| folded.strip_prefix(prefix))
        .unwrap_or(&folded)
        .trim();
    let slug_form = folded.replace(' ', "-");
    PROVINCES
        .iter()
        .copied()
        .find(|p| p.slug == slug_form || fold(p.name) == folded)
}

/// Like [`find`], with a message for a person when nothing matches.
pub fn parse(input: &str) -> Result<Province, super::validation::Refusal> {
    find(input).ok_or_else(|| {
        super::validation::Refusal::new(
            super::validation::Rule::NotInList,
            Some(input.trim().to_owned()),
            format!("'{input}' is not one of the 34 provinces in force since 2025-07-01"),
        )
    })
}

/// The province with this slug, as read back from storage.
pub fn by_slug(slug: &str) -> Option<Province> {
    PROVINCES.iter().copied().find(|p| p.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_by_name_slug_and_folded_name() {
        assert_eq!(find("Lâm Đồng").map(|p| p.slug), Some("lam-dong"));
        assert_eq!(find("lam dong").map(|p| p.slug), Some("lam-dong"));
        assert_eq!(find("dak-lak").map(|p| p.slug), Some("dak-lak"));
        assert_eq!(find("TP. Hồ Chí Minh").map(|p| p.slug), Some("ho-chi-minh"));
        assert_eq!(find("Tỉnh An Giang").map(|p| p.slug), Some("an-giang"));
    }

    #[test]
    fn merged_provinces_are_unknown() {
        // Bình Định and Kiên Giang were merged into Gia Lai and An Giang on 2025-07-01.
        assert!(find("Bình Định").is_none());
        assert!(
            parse("Kiên Giang")
                .unwrap_err()
                .message
                .contains("34 provinces")
        );
    }

    #[test]
    fn slugs_are_unique() {
        let mut slugs: Vec<_> = PROVINCES.iter().map(|p| p.slug).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), 34);
    }
}
