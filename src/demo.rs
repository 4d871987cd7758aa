//! The demo registry: cooperatives in several provinces, a dozen products with Vietnamese
//! names (with and without GTIN), OCOP and VietGAP certificates (one expired, one pending)
//! and lots. It is an ordinary import file, so it also shows the import format.

use crate::app::{App, Caller, accounts};
use crate::domain::bundle::{BundleInput, RegistryBundle};
use crate::domain::people::{Membership, PersonInput, Role};
use crate::store::ListQuery;

/// The demo data as an import file.
pub const DEMO_JSON: &str = include_str!("../assets/demo.json");

/// The demo data, checked and ready to store.
pub fn bundle() -> anyhow::Result<RegistryBundle> {
    let input: BundleInput = serde_json::from_str(DEMO_JSON)?;
    input
        .validate()
        .map_err(|e| anyhow::anyhow!("demo data is invalid: {e}"))
}

/// The demo people: one for each role, at the demo's first cooperative (HTX Xuân Thọ,
/// Lâm Đồng) and its province's OCOP council; an inspector of Tây Ninh (where the demo's
/// Gạo Nàng Thơm comes from); and an operator.
pub const PEOPLE: [(&str, &str, Option<&str>, Role); 7] = [
    (
        "chunhiem@demo.truyxuat.vn",
        "Chủ nhiệm HTX Xuân Thọ",
        Some(COOPERATIVE),
        Role::Owner,
    ),
    (
        "bientap@demo.truyxuat.vn",
        "Biên tập viên HTX Xuân Thọ",
        Some(COOPERATIVE),
        Role::Editor,
    ),
    (
        "inte@demo.truyxuat.vn",
        "Người in tem HTX Xuân Thọ",
        Some(COOPERATIVE),
        Role::Printer,
    ),
    (
        "xem@demo.truyxuat.vn",
        "Thành viên HTX Xuân Thọ",
        Some(COOPERATIVE),
        Role::Viewer,
    ),
    (
        "thanhtra@demo.truyxuat.vn",
        "Thanh tra OCOP Lâm Đồng",
        Some(AUTHORITY),
        Role::Inspector,
    ),
    (
        "thanhtra.tayninh@demo.truyxuat.vn",
        "Thanh tra Sở NN&MT Tây Ninh",
        Some("Sở Nông nghiệp và Môi trường tỉnh Tây Ninh"),
        Role::Inspector,
    ),
    (
        "vanhanh@demo.truyxuat.vn",
        "Vận hành hệ thống",
        None,
        Role::Operator,
    ),
];

const COOPERATIVE: &str = "HTX Nông nghiệp Dịch vụ Xuân Thọ";
const AUTHORITY: &str = "Hội đồng OCOP tỉnh Lâm Đồng";

/// Makes the demo people, all with `password` (the caller prints it, once).
pub async fn people(app: &App, password: &str) -> anyhow::Result<()> {
    let orgs = app
        .store
        .list_organizations(&ListQuery {
            limit: Some(ListQuery::MAX_LIMIT),
            ..Default::default()
        })
        .await?;
    let id_of = |name: &str| orgs.iter().find(|o| o.data.name == name).map(|o| o.id);
    for (login, name, org, role) in PEOPLE {
        let membership = match org {
            Some(org) => Membership::of(
                id_of(org).ok_or_else(|| anyhow::anyhow!("the demo has no {org}"))?,
                role,
            ),
            None => Membership::operator(),
        };
        let person = PersonInput {
            login: login.into(),
            display_name: name.into(),
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("demo person {login}: {e}"))?;
        accounts::create_person(app, &Caller::cli(), &person, &[membership], Some(password))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_data_is_valid() {
        let bundle = super::bundle().unwrap();
        assert!(bundle.products.len() >= 10);
        assert!(bundle.products.iter().any(|(_, _, p)| p.gtin.is_some()));
        assert!(bundle.products.iter().any(|(_, _, p)| p.gtin.is_none()));
    }
}
