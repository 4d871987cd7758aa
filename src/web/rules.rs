//! Validation refusals in the reader's language: the domain gives a rule and its argument,
//! the pages (and the spreadsheets and terminal, which speak Vietnamese) put it into words.
//! Refusals the domain words itself (`invalid`: what only operators and integrations meet)
//! stay in its English.

use std::borrow::Cow;

use super::i18n::Lang;
use crate::domain::validation::{FieldError, Rule};

/// What to show beside a refused field.
pub fn words(lang: Lang, error: &FieldError) -> Cow<'_, str> {
    match (lang, error.code) {
        (Lang::En, _) | (_, Rule::Invalid) => Cow::Borrowed(&error.message),
        (Lang::Vi, code) => vietnamese(
            code,
            error.argument.as_deref().unwrap_or_default(),
            &error.field,
        )
        .into(),
    }
}

/// The Vietnamese words of a refusal of `field` (whose last part names what is refused).
fn vietnamese(code: Rule, argument: &str, field: &str) -> String {
    let field = field.rsplit('.').next().unwrap_or(field);
    match code {
        Rule::Invalid => String::new(),
        Rule::Required => "Không được để trống".into(),
        Rule::TooLong => format!("Tối đa {argument} ký tự"),
        Rule::ForbiddenCharacter => format!(
            "Có ký tự điều khiển hoặc ký tự đổi chiều văn bản ({argument}); \
             hãy gõ lại bằng văn bản thường"
        ),
        Rule::Choose => "Hãy chọn một mục trong danh sách".into(),
        Rule::NotADate => {
            format!("'{argument}' không phải là ngày (gõ 2026-03-31 hoặc 31/03/2026)")
        }
        Rule::NotInList => match field {
            "province" => format!("'{argument}' không phải một trong 34 tỉnh, thành phố"),
            _ => format!("'{argument}' không có trong danh sách"),
        },
        Rule::NotATime => format!("'{argument}' không phải giờ trong ngày (gõ 06:30)"),
        Rule::InFuture => "Không được muộn hơn bây giờ".into(),
        Rule::NotANumber => format!("'{argument}' không phải một con số"),
        Rule::Negative => "Không được là số âm".into(),
        Rule::OutOfRange => format!("Phải trong khoảng {argument}"),
        Rule::OcopStars => "Hạng OCOP có từ 3 đến 5 sao".into(),
        Rule::StarsOnlyForOcop => "Chỉ giấy chứng nhận OCOP mới có số sao".into(),
        Rule::NotAfterIssue => "Phải sau ngày cấp".into(),
        Rule::LongestValidity => {
            format!("Loại giấy chứng nhận này có hiệu lực tối đa {argument} tháng")
        }
        Rule::BeforeProduction => "Không được trước ngày sản xuất".into(),
        Rule::GtinDigits => "Mã GTIN chỉ gồm chữ số".into(),
        Rule::GtinLength => format!("Mã GTIN có 8, 12, 13 hoặc 14 chữ số, không phải {argument}"),
        Rule::GtinCheckDigit => {
            format!("Chữ số kiểm tra sai: phải là {argument}; hãy xem lại mã in trên bao bì")
        }
        Rule::LotCodeCharacter => {
            format!("Không dùng được ký tự '{argument}': chỉ chữ không dấu, chữ số và - . _ /")
        }
        Rule::NotSha256 => "Phải là 64 chữ số hex của mã SHA-256 một tài liệu đã lưu".into(),
        Rule::NoSuchDocument => "Chưa có tài liệu nào với mã SHA-256 này".into(),
        Rule::Email => "Không phải địa chỉ e-mail".into(),
        Rule::Phone => match field {
            "login" => "Không phải địa chỉ e-mail hay số điện thoại Việt Nam".into(),
            _ => "Số điện thoại chỉ gồm chữ số, khoảng trắng và + - . ( )".into(),
        },
        Rule::PasswordTooShort => format!("Mật khẩu cần ít nhất {argument} ký tự"),
        Rule::PasswordIsLogin => "Mật khẩu không được trùng tên đăng nhập".into(),
        Rule::PhotoAddress => "Phải là địa chỉ http(s) hoặc một đường dẫn trên trang này".into(),
        Rule::Taken => match field {
            "gtin" => "Mã GTIN này đã thuộc một sản phẩm khác".into(),
            "number" => "Cơ quan cấp này đã có một giấy chứng nhận số này".into(),
            "code" => "Sản phẩm này đã có một lô mang mã này".into(),
            "step" => "Sự kiện này đã được ghi (cùng bước, lô, giờ và nơi)".into(),
            "event" => "Sự kiện này đã được báo ghi sai".into(),
            "login" => "Tên đăng nhập này đã có người dùng".into(),
            _ => "Đã có một bản ghi khác mang giá trị này".into(),
        },
        Rule::NotFound => match field {
            "product" | "product_id" => {
                format!("Không có sản phẩm '{argument}' trong tệp hay trong truyxuat")
            }
            "issuer" | "issuer_id" => format!("Không có cơ quan cấp '{argument}' trong truyxuat"),
            "lot" => format!("Sản phẩm này không có lô '{argument}'"),
            "batch" => format!("Không có lô tem số {argument}"),
            _ => format!("Không có bản ghi mã số {argument}"),
        },
        Rule::NotAProducer => "Phải là một cơ sở sản xuất (hợp tác xã, doanh nghiệp, hộ)".into(),
        Rule::NotAnAuthority => "Phải là một cơ quan có thẩm quyền cấp giấy chứng nhận".into(),
        Rule::OtherProducersProduct => "Sản phẩm này thuộc một cơ sở khác".into(),
        Rule::PrintedOnLabels => format!(
            "Không sửa được: tem của lô tem {argument} đã in giá trị này, sửa thì mọi tem đó \
             sẽ bị coi là không chính hãng"
        ),
        Rule::StatusMove => "Không thể chuyển giấy chứng nhận sang trạng thái này".into(),
        Rule::DuplicateRow => format!("Trùng với dòng {argument}"),
        Rule::ProductRowHasErrors => {
            format!("Sản phẩm ở dòng {argument} trang Sản phẩm có lỗi")
        }
        Rule::Ambiguous => format!("Có nhiều cơ quan tên '{argument}' trong truyxuat"),
        Rule::Heic => "Chưa đọc được ảnh HEIC/HEIF: hãy chọn ảnh JPEG (trên iPhone: Cài đặt > \
                       Camera > Định dạng > Tương thích nhất) hoặc PNG"
            .into(),
        Rule::NotAPhoto => "Tệp không phải ảnh JPEG, PNG hay WebP đọc được".into(),
        Rule::DocumentType => "Tệp phải là PDF hoặc ảnh (JPEG, PNG, WebP)".into(),
    }
}

/// A refusal in the Vietnamese of the spreadsheets and the terminal.
pub fn in_vietnamese(error: &FieldError) -> String {
    words(Lang::Vi, error).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validation::Validator;

    fn refusal(check: impl FnOnce(&mut Validator)) -> FieldError {
        let mut v = Validator::default();
        check(&mut v);
        v.finish().unwrap_err().errors.remove(0)
    }

    #[test]
    fn shared_rules_read_in_vietnamese_and_english() {
        let empty = refusal(|v| {
            v.text("name", "  ", 10);
        });
        assert_eq!(words(Lang::Vi, &empty), "Không được để trống");
        assert_eq!(words(Lang::En, &empty), "must not be empty");
        let long = refusal(|v| {
            v.text("name", "Chè Thái Nguyên", 5);
        });
        assert_eq!(words(Lang::Vi, &long), "Tối đa 5 ký tự");
        let bidi = refusal(|v| {
            v.text("number", "VG\u{202E}123", 50);
        });
        assert!(words(Lang::Vi, &bidi).contains("(U+202E)"));
        let date = refusal(|v| {
            v.date("issued_on", "31-31-2026");
        });
        assert!(words(Lang::Vi, &date).starts_with("'31-31-2026' không phải là ngày"));
        let own = refusal(|v| v.refuse("key", "'k1' is used for two entries"));
        assert_eq!(words(Lang::Vi, &own), "'k1' is used for two entries");
    }

    #[test]
    fn the_domain_rules_of_the_forms_read_in_vietnamese() {
        use crate::domain::certification::CertificationInput;
        let cert = CertificationInput {
            holder_id: Some(1),
            issuer_id: Some(2),
            kind: "ocop".into(),
            ocop_stars: Some(6),
            number: "1/QĐ".into(),
            issued_on: "2025-01-01".into(),
            valid_until: "2029-01-01".into(),
            ..Default::default()
        };
        let refused = cert.validate().unwrap_err();
        let vi = |field| words(Lang::Vi, refused.error_for(field).unwrap()).into_owned();
        assert_eq!(vi("ocop_stars"), "Hạng OCOP có từ 3 đến 5 sao");
        assert_eq!(
            vi("valid_until"),
            "Loại giấy chứng nhận này có hiệu lực tối đa 36 tháng"
        );
        let en = words(Lang::En, refused.error_for("ocop_stars").unwrap());
        assert_eq!(en, "an OCOP rating has 3 to 5 stars, not 6");

        let gtin = refusal(|v| {
            v.check_by(
                "gtin",
                crate::domain::gtin::Gtin::parse("8934588012113").map_err(Into::into),
            );
        });
        assert_eq!(
            words(Lang::Vi, &gtin),
            "Chữ số kiểm tra sai: phải là 2; hãy xem lại mã in trên bao bì"
        );
        let code = refusal(|v| {
            v.check_by("code", crate::domain::lot::check_lot_code("LÔ-1"));
        });
        assert!(words(Lang::Vi, &code).starts_with("Không dùng được ký tự 'Ô'"));
        let taken = FieldError {
            field: "products[3].gtin".into(),
            code: Rule::Taken,
            argument: None,
            message: "another product already has this GTIN".into(),
        };
        assert_eq!(
            words(Lang::Vi, &taken),
            "Mã GTIN này đã thuộc một sản phẩm khác"
        );
    }
}
