//! The words of the pages, Vietnamese first and English too. Each language is one typed
//! table, so a missing word is a compile error rather than a blank on a page.

use axum::http::HeaderMap;

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language, for the toggle.
    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }

    /// Chooses from a `lang` cookie, then `Accept-Language`; Vietnamese when neither says.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(lang) = super::context::cookie(headers, "lang").and_then(Lang::parse) {
            return lang;
        }
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                // The first of vi / en in the order the browser lists them.
                v.split(',')
                    .filter_map(|part| part.split(';').next())
                    .filter_map(|tag| tag.trim().split('-').next())
                    .find_map(Lang::parse)
            })
            .unwrap_or_default()
    }
}

/// Every word a page shows.
pub struct Texts {
    pub site_name: &'static str,
    pub tagline: &'static str,
    pub switch_language: &'static str,
    pub producers: &'static str,
    pub products: &'static str,
    pub search: &'static str,
    pub search_placeholder: &'static str,
    pub no_results: &'static str,
    pub province: &'static str,
    pub producer: &'static str,
    pub category: &'static str,
    pub unit: &'static str,
    pub gtin: &'static str,
    pub no_gtin: &'static str,
    pub lots: &'static str,
    pub console: &'static str,
    pub error_title: &'static str,
    pub error_request_id: &'static str,
    pub unavailable_title: &'static str,
    pub unavailable_body: &'static str,
    pub try_again: &'static str,
    pub too_many_title: &'static str,
    pub too_many_body: &'static str,
    pub back_home: &'static str,
    pub login: &'static str,
    pub login_name: &'static str,
    pub password: &'static str,
    pub new_password: &'static str,
    pub current_password: &'static str,
    pub inspect: &'static str,
    pub suspended: &'static str,
    pub awaiting_review: &'static str,
    pub certificate: &'static str,
    pub issued_by: &'static str,
    pub change_password: &'static str,
    pub wrong_current_password: &'static str,
    pub login_failed: &'static str,
    pub forbidden_title: &'static str,
    pub forbidden_body: &'static str,
    pub signed_in_as: &'static str,
    pub invitation_title: &'static str,
    pub invitation_body: &'static str,
    pub reset_title: &'static str,
    pub link_closed: &'static str,
    pub display_name: &'static str,
    pub create_account: &'static str,
    pub set_password: &'static str,
    pub invite: &'static str,
    pub invite_link: &'static str,
    pub role: &'static str,
    pub edit: &'static str,
    pub logout: &'static str,
    pub new_product: &'static str,
    pub new_organization: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub address: &'static str,
    pub phone: &'static str,
    pub email: &'static str,
    pub description: &'static str,
    pub photo_url: &'static str,
    pub growing_area_code: &'static str,
    pub save: &'static str,
    pub choose: &'static str,
    pub form_has_errors: &'static str,
    pub optional: &'static str,
    pub footer: &'static str,
}

pub static VI: Texts = Texts {
    site_name: "Truy xuất nguồn gốc",
    tagline: "Sản phẩm OCOP và chuỗi thực phẩm an toàn: nguồn gốc, chứng nhận, tem QR chính hãng.",
    switch_language: "English",
    producers: "Cơ sở sản xuất",
    products: "Sản phẩm",
    search: "Tìm",
    search_placeholder: "Tên sản phẩm, cơ sở, mã GTIN… (gõ không dấu cũng được)",
    no_results: "Không tìm thấy kết quả.",
    province: "Tỉnh, thành phố",
    producer: "Cơ sở sản xuất",
    category: "Nhóm sản phẩm",
    unit: "Quy cách",
    gtin: "Mã GTIN",
    no_gtin: "chưa có mã GTIN",
    lots: "Lô hàng",
    console: "Quản trị",
    error_title: "Có lỗi",
    error_request_id: "Mã yêu cầu (gửi kèm khi báo lỗi)",
    unavailable_title: "Hệ thống tạm thời gián đoạn",
    unavailable_body: "Chúng tôi chưa xử lý được yêu cầu của bạn và chưa lưu gì. Vui lòng thử lại sau ít phút.",
    try_again: "Thử lại",
    too_many_title: "Bạn đã gửi nhiều lần",
    too_many_body: "Chúng tôi đã nhận được các báo cáo của bạn. Vui lòng đợi vài phút trước khi gửi thêm.",
    back_home: "Về trang chủ",
    login: "Đăng nhập",
    login_name: "Email hoặc số điện thoại",
    password: "Mật khẩu",
    new_password: "Mật khẩu mới (ít nhất 10 ký tự)",
    current_password: "Mật khẩu hiện tại",
    inspect: "Không gian thanh tra",
    suspended: "Đang bị đình chỉ",
    awaiting_review: "Chứng nhận chờ xác minh",
    certificate: "Chứng nhận",
    issued_by: "Cơ quan cấp",
    change_password: "Đổi mật khẩu",
    wrong_current_password: "Mật khẩu hiện tại không đúng.",
    login_failed: "Sai email/số điện thoại hoặc mật khẩu.",
    forbidden_title: "Không có quyền",
    forbidden_body: "Tài khoản của bạn không được phép xem hoặc thay đổi mục này.",
    signed_in_as: "Đang đăng nhập:",
    invitation_title: "Lời mời tham gia",
    invitation_body: "Bạn được mời tham gia với vai trò",
    reset_title: "Đặt lại mật khẩu",
    link_closed: "Đường dẫn này đã được dùng, đã bị hủy hoặc đã hết hạn.",
    display_name: "Họ và tên",
    create_account: "Tạo tài khoản",
    set_password: "Đặt mật khẩu",
    invite: "Mời thành viên",
    invite_link: "Gửi đường dẫn này qua Zalo hoặc tin nhắn (dùng được một lần, trong 7 ngày):",
    role: "Vai trò",
    edit: "Sửa",
    logout: "Đăng xuất",
    new_product: "Thêm sản phẩm",
    new_organization: "Thêm tổ chức",
    name: "Tên",
    kind: "Loại hình",
    address: "Địa chỉ",
    phone: "Điện thoại",
    email: "Thư điện tử",
    description: "Mô tả",
    photo_url: "Địa chỉ ảnh",
    growing_area_code: "Mã vùng trồng",
    save: "Lưu",
    choose: "— chọn —",
    form_has_errors: "Chưa lưu: vui lòng sửa các ô được đánh dấu.",
    optional: "không bắt buộc",
    footer: "truyxuat — phần mềm nguồn mở truy xuất nguồn gốc sản phẩm",
};

pub static EN: Texts = Texts {
    site_name: "Product traceability",
    tagline: "OCOP and safe-food products: origin, certifications, genuine QR labels.",
    switch_language: "Tiếng Việt",
    producers: "Producers",
    products: "Products",
    search: "Search",
    search_placeholder: "Product, producer, GTIN… (diacritics optional)",
    no_results: "Nothing found.",
    province: "Province",
    producer: "Producer",
    category: "Category",
    unit: "Unit",
    gtin: "GTIN",
    no_gtin: "no GTIN yet",
    lots: "Lots",
    console: "Console",
    error_title: "Something went wrong",
    error_request_id: "Request id (quote it when you report a problem)",
    unavailable_title: "Temporarily unavailable",
    unavailable_body: "We could not complete your request, and nothing was saved. Please try again in a few minutes.",
    try_again: "Try again",
    too_many_title: "Too many at once",
    too_many_body: "We have received your reports. Please wait a few minutes before sending more.",
    back_home: "Back to the home page",
    login: "Sign in",
    login_name: "E-mail or phone number",
    password: "Password",
    new_password: "New password (at least 10 characters)",
    current_password: "Current password",
    inspect: "Inspection workspace",
    suspended: "Suspended",
    awaiting_review: "Certificates awaiting review",
    certificate: "Certificate",
    issued_by: "Issued by",
    change_password: "Change password",
    wrong_current_password: "The current password is wrong.",
    login_failed: "Wrong e-mail/phone number or password.",
    forbidden_title: "Not allowed",
    forbidden_body: "Your account may not see or change this.",
    signed_in_as: "Signed in as",
    invitation_title: "Invitation",
    invitation_body: "You are invited to join with the role",
    reset_title: "Set a new password",
    link_closed: "This link has been used, revoked or has expired.",
    display_name: "Full name",
    create_account: "Create account",
    set_password: "Set password",
    invite: "Invite a member",
    invite_link: "Send this link by Zalo or SMS (it works once, for 7 days):",
    role: "Role",
    edit: "Edit",
    logout: "Sign out",
    new_product: "Add a product",
    new_organization: "Add an organization",
    name: "Name",
    kind: "Kind",
    address: "Address",
    phone: "Phone",
    email: "E-mail",
    description: "Description",
    photo_url: "Photo address",
    growing_area_code: "Growing-area code",
    save: "Save",
    choose: "— choose —",
    form_has_errors: "Not saved: please correct the marked fields.",
    optional: "optional",
    footer: "truyxuat — open-source product traceability",
};

/// The words of the public scan page.
pub struct ScanTexts {
    pub suspended_title: &'static str,
    pub suspended_body: &'static str,
    pub genuine_title: &'static str,
    pub genuine_body: &'static str,
    pub first_scanned: &'static str,
    pub times_scanned: &'static str,
    pub copy_title: &'static str,
    pub copy_body: &'static str,
    pub not_activated_title: &'static str,
    pub not_activated_body: &'static str,
    pub void_title: &'static str,
    pub void_body: &'static str,
    pub recalled_title: &'static str,
    pub recalled_body: &'static str,
    pub not_genuine_title: &'static str,
    pub not_genuine_body: &'static str,
    pub unknown_key_title: &'static str,
    pub unknown_key_body: &'static str,
    pub revoked_key_title: &'static str,
    pub revoked_key_body: &'static str,
    pub malformed_title: &'static str,
    pub malformed_body: &'static str,
    pub unknown_product_title: &'static str,
    pub unknown_product_body: &'static str,
    pub what_to_do: &'static str,
    pub what_to_do_steps: [&'static str; 3],
    pub product_info: &'static str,
    pub origin: &'static str,
    pub growing_area: &'static str,
    pub lot: &'static str,
    pub produced_on: &'static str,
    pub expires_on: &'static str,
    pub certifications: &'static str,
    pub no_certifications: &'static str,
    pub issued_by: &'static str,
    pub number: &'static str,
    pub valid: &'static str,
    pub verified_by: &'static str,
    pub badge_valid: &'static str,
    pub badge_expiring: &'static str,
    pub badge_expired: &'static str,
    pub badge_revoked: &'static str,
    pub badge_pending: &'static str,
    pub badge_rejected: &'static str,
    pub call: &'static str,
    pub serial: &'static str,
    pub report_title: &'static str,
    pub report_message: &'static str,
    pub report_contact: &'static str,
    pub report_send: &'static str,
    pub report_thanks: &'static str,
    pub on: &'static str,
}

impl Lang {
    pub fn scan_texts(self) -> &'static ScanTexts {
        match self {
            Lang::Vi => &SCAN_VI,
            Lang::En => &SCAN_EN,
        }
    }
}

pub static SCAN_VI: ScanTexts = ScanTexts {
    genuine_title: "Tem chính hãng",
    genuine_body: "Tem này do hệ thống truy xuất nguồn gốc cấp cho sản phẩm dưới đây.",
    first_scanned: "Quét lần đầu",
    times_scanned: "Số lần quét",
    copy_title: "Cảnh báo: có thể là tem bị sao chép",
    copy_body: "Mã này đã được quét rất nhiều lần. Nếu bạn vừa mua sản phẩm và chưa từng quét mã, hãy báo cho chúng tôi.",
    suspended_title: "Cơ sở sản xuất đang bị đình chỉ",
    suspended_body: "Cơ quan quản lý đã đình chỉ cơ sở này. Hãy cân nhắc trước khi dùng sản phẩm.",
    not_activated_title: "Tem chưa được kích hoạt",
    not_activated_body: "Tem này đã được in nhưng chưa được gắn với lô hàng nào. Nếu tem đang ở trên sản phẩm bạn mua, hãy thận trọng.",
    void_title: "Tem đã bị hủy",
    void_body: "Nhà sản xuất đã hủy tem này (in lỗi, thất lạc hoặc tiêu hủy). Sản phẩm mang tem này không được bảo đảm.",
    recalled_title: "SẢN PHẨM ĐÃ BỊ THU HỒI",
    recalled_body: "Lô hàng của sản phẩm này đã bị thu hồi. Không sử dụng sản phẩm; hãy liên hệ nơi bán hoặc nhà sản xuất.",
    not_genuine_title: "Tem không hợp lệ",
    not_genuine_body: "Mã này không do hệ thống truy xuất nguồn gốc cấp. Sản phẩm có thể là hàng giả.",
    unknown_key_title: "Không nhận ra mã ký của tem",
    unknown_key_body: "Tem này được ký bằng một khóa mà hệ thống không biết. Không thể xác nhận đây là tem thật.",
    revoked_key_title: "Khóa ký của tem đã bị thu hồi",
    revoked_key_body: "Tem này được ký bằng một khóa đã bị thu hồi, nên không còn được bảo đảm.",
    malformed_title: "Mã QR không đúng định dạng",
    malformed_body: "Địa chỉ này không phải là mã tem truy xuất nguồn gốc.",
    unknown_product_title: "Không tìm thấy sản phẩm",
    unknown_product_body: "Không có sản phẩm nào với mã GTIN này trong hệ thống.",
    what_to_do: "Bạn nên làm gì",
    what_to_do_steps: [
        "Đừng sử dụng sản phẩm nếu bạn nghi ngờ.",
        "Giữ lại sản phẩm, hóa đơn và chụp ảnh tem.",
        "Báo cho nơi bán hoặc cơ quan quản lý thị trường, hoặc gửi báo cáo bên dưới.",
    ],
    product_info: "Sản phẩm",
    origin: "Nguồn gốc",
    growing_area: "Vùng trồng",
    lot: "Lô hàng",
    produced_on: "Ngày sản xuất",
    expires_on: "Hạn sử dụng",
    certifications: "Chứng nhận",
    no_certifications: "Chưa có chứng nhận nào được ghi nhận.",
    issued_by: "Cơ quan cấp",
    number: "Số",
    valid: "Hiệu lực",
    verified_by: "Đã xác minh bởi",
    badge_valid: "Còn hiệu lực",
    badge_expiring: "Sắp hết hạn",
    badge_expired: "Hết hạn",
    badge_revoked: "Đã thu hồi",
    badge_pending: "Chờ xác minh",
    badge_rejected: "Không được công nhận",
    call: "Gọi",
    serial: "Mã tem",
    report_title: "Báo cáo vấn đề",
    report_message: "Bạn thấy điều gì bất thường?",
    report_contact: "Số điện thoại hoặc email (không bắt buộc)",
    report_send: "Gửi báo cáo",
    report_thanks: "Cảm ơn bạn. Chúng tôi đã nhận được báo cáo.",
    on: "ngày",
};

pub static SCAN_EN: ScanTexts = ScanTexts {
    genuine_title: "Genuine label",
    genuine_body: "This label was issued by the traceability system for the product below.",
    first_scanned: "First scanned",
    times_scanned: "Times scanned",
    copy_title: "Warning: this label may have been copied",
    copy_body: "This code has been scanned very many times. If you just bought the product and never scanned it, please tell us.",
    suspended_title: "Producer suspended",
    suspended_body: "The authorities have suspended this producer. Think twice before using the product.",
    not_activated_title: "Label not activated yet",
    not_activated_body: "This label was printed but not yet tied to a production lot. If it is on a product you bought, be careful.",
    void_title: "Label voided",
    void_body: "The producer voided this label (misprinted, lost or destroyed). A product carrying it is not vouched for.",
    recalled_title: "PRODUCT RECALLED",
    recalled_body: "This product's lot has been recalled. Do not use it; contact the shop or the producer.",
    not_genuine_title: "Not a genuine label",
    not_genuine_body: "This code was not issued by the traceability system. The product may be counterfeit.",
    unknown_key_title: "Unknown signing key",
    unknown_key_body: "This label is signed with a key the system does not know. It cannot be confirmed as genuine.",
    revoked_key_title: "The label's signing key was revoked",
    revoked_key_body: "This label is signed with a key that has been revoked, so it is no longer vouched for.",
    malformed_title: "Not a traceability QR code",
    malformed_body: "This address is not a traceability label code.",
    unknown_product_title: "Product not found",
    unknown_product_body: "No product with this GTIN is registered.",
    what_to_do: "What to do",
    what_to_do_steps: [
        "Do not use the product if in doubt.",
        "Keep the product and the receipt, and take a photo of the label.",
        "Tell the shop or the market surveillance office, or send a report below.",
    ],
    product_info: "Product",
    origin: "Origin",
    growing_area: "Growing area",
    lot: "Lot",
    produced_on: "Produced on",
    expires_on: "Best before",
    certifications: "Certifications",
    no_certifications: "No certification recorded yet.",
    issued_by: "Issued by",
    number: "No.",
    valid: "Valid",
    verified_by: "Verified by",
    badge_valid: "Valid",
    badge_expiring: "Expiring soon",
    badge_expired: "Expired",
    badge_revoked: "Revoked",
    badge_pending: "Awaiting verification",
    badge_rejected: "Rejected",
    call: "Call",
    serial: "Label code",
    report_title: "Report a problem",
    report_message: "What looks wrong?",
    report_contact: "Phone or e-mail (optional)",
    report_send: "Send report",
    report_thanks: "Thank you. We have received your report.",
    on: "on",
};

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookie_beats_accept_language_and_vietnamese_is_the_default() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::Vi);
        h.insert(
            "accept-language",
            HeaderValue::from_static("en-US,en;q=0.9,vi;q=0.8"),
        );
        assert_eq!(Lang::from_headers(&h), Lang::En);
        h.insert("cookie", HeaderValue::from_static("a=b; lang=vi"));
        assert_eq!(Lang::from_headers(&h), Lang::Vi);
    }
}
