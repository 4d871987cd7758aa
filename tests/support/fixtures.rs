//! Builder-style registry fixtures with realistic Vietnamese values.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use truyxuat::domain::certification::{CertificationInput, NewCertification};
use truyxuat::domain::lot::{LotInput, NewLot};
use truyxuat::domain::organization::{NewOrganization, OrganizationInput};
use truyxuat::domain::product::{NewProduct, ProductInput};

/// The fixed moment tests run at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap()
}

pub struct Org(pub OrganizationInput);

/// A cooperative in Lâm Đồng unless changed.
pub fn cooperative(name: &str) -> Org {
    Org(OrganizationInput {
        kind: "cooperative".into(),
        name: name.into(),
        province: "Lâm Đồng".into(),
        address: Some("Thôn 2, xã Lạc Dương".into()),
        phone: Some("0263 3820 123".into()),
        email: None,
    })
}

/// An authority (a provincial department) unless changed.
pub fn department(name: &str) -> Org {
    Org(OrganizationInput {
        kind: "department".into(),
        name: name.into(),
        province: "Lâm Đồng".into(),
        ..Default::default()
    })
}

impl Org {
    pub fn province(mut self, p: &str) -> Self {
        self.0.province = p.into();
        self
    }
    pub fn build(self) -> NewOrganization {
        self.0.validate().expect("valid organization fixture")
    }
}

pub struct Prod(pub ProductInput);

pub fn product(producer_id: i64, name: &str) -> Prod {
    Prod(ProductInput {
        producer_id: Some(producer_id),
        name: name.into(),
        category: "Thực phẩm".into(),
        unit: "túi 5 kg".into(),
        ..Default::default()
    })
}

impl Prod {
    pub fn gtin(mut self, g: &str) -> Self {
        self.0.gtin = Some(g.into());
        self
    }
    pub fn build(self) -> NewProduct {
        self.0.validate().expect("valid product fixture")
    }
}

pub struct Cert(pub CertificationInput);

/// A 4-star OCOP certificate, valid 2025-01-15 to 2028-01-14.
pub fn ocop(holder_id: i64, issuer_id: i64, number: &str) -> Cert {
    Cert(CertificationInput {
        holder_id: Some(holder_id),
        issuer_id: Some(issuer_id),
        kind: "ocop".into(),
        ocop_stars: Some(4),
        number: number.into(),
        issued_on: "2025-01-15".into(),
        valid_until: "2028-01-14".into(),
        ..Default::default()
    })
}

impl Cert {
    pub fn product(mut self, id: i64) -> Self {
        self.0.product_id = Some(id);
        self
    }
    pub fn build(self) -> NewCertification {
        self.0.validate().expect("valid certificate fixture")
    }
}

pub struct LotB(pub LotInput);

pub fn lot(product_id: i64, code: &str) -> LotB {
    LotB(LotInput {
        product_id: Some(product_id),
        code: code.into(),
        produced_on: "2026-10-01".into(),
        expires_on: Some("2027-10-01".into()),
        quantity: Some(1200.0),
        growing_area: Some("Vùng trồng VT-68-001".into()),
        commune: Some("Lạc Dương".into()),
        province: Some("lam-dong".into()),
    })
}

impl LotB {
    pub fn build(self) -> NewLot {
        self.0.validate().expect("valid lot fixture")
    }
}
