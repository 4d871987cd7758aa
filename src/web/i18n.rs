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
        let cookie = headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix("lang="))
            .find_map(Lang::parse);
        if let Some(lang) = cookie {
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
    pub back_home: &'static str,
    pub login: &'static str,
    pub admin_token: &'static str,
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
    back_home: "Về trang chủ",
    login: "Đăng nhập",
    admin_token: "Mã truy cập quản trị",
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
    back_home: "Back to the home page",
    login: "Sign in",
    admin_token: "Operator token",
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
