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

/// The demo's chains of events, as a cooperative and its partners would capture them:
/// longan harvested from two gardens in Hưng Yên, dried into one lot, packed, shipped to a
/// shop in Hà Nội and received there; oolong tea picked in Lâm Đồng, packed and shipped.
pub async fn events(app: &App) -> anyhow::Result<usize> {
    use crate::domain::epcis::journey::{PLACE_FIELD, lot_class_id};
    let products = app
        .store
        .list_products(
            &ListQuery {
                limit: Some(ListQuery::MAX_LIMIT),
                ..Default::default()
            },
            None,
        )
        .await?;
    let class = |name: &str, lot: &str| -> anyhow::Result<String> {
        let p = products
            .iter()
            .find(|p| p.data.name == name)
            .ok_or_else(|| anyhow::anyhow!("the demo has no {name}"))?;
        let gtin = p.data.gtin.map(|g| g.as_gtin14());
        Ok(lot_class_id(gtin.as_deref(), p.id, lot))
    };
    let fresh_a = class("Nhãn lồng Hưng Yên", "NL-2026-07")?;
    let fresh_b = class("Nhãn lồng Hưng Yên", "NL-2026-07B")?;
    let dried = class("Long nhãn sấy khô", "LN-2026-08")?;
    let tea = class("Chè Ô Long Cầu Đất", "CD-2026-10A")?;
    // The tea's OCOP rating is in force: its events rest on it.
    let tea_product = products
        .iter()
        .find(|p| p.data.name == "Chè Ô Long Cầu Đất")
        .ok_or_else(|| anyhow::anyhow!("the demo has no tea"))?;
    let held = app
        .store
        .certifications_of(tea_product.data.producer_id)
        .await?;
    let tea_certified = |day: &str| -> anyhow::Result<serde_json::Value> {
        let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")?;
        let info = crate::app::events::certification_info(app, &held, tea_product.id, day);
        Ok(serde_json::json!(info))
    };
    let place = |name: &str, commune: &str, province: &str| serde_json::json!({ "name": name, "commune": commune, "province": province });
    let q = |class: &str, n: u32, uom: &str| serde_json::json!([{ "epcClass": class, "quantity": n, "uom": uom }]);
    let object = |time: &str,
                  step: &str,
                  disposition: &str,
                  what: serde_json::Value,
                  at: serde_json::Value| {
        serde_json::json!({
            "type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": "+07:00",
            "action": if step == "commissioning" { "ADD" } else { "OBSERVE" },
            "bizStep": step, "disposition": disposition, "quantityList": what, PLACE_FIELD: at
        })
    };
    let certified = |mut event: serde_json::Value, info: serde_json::Value| {
        if info.as_array().is_some_and(|a| !a.is_empty()) {
            event["certificationInfo"] = info;
        }
        event
    };
    let garden_a = place("Vườn nhãn Hồng Nam", "Hồng Nam", "Hưng Yên");
    let garden_b = place("Vườn nhãn Hồng Châu", "Hồng Châu", "Hưng Yên");
    let dryer = place("Xưởng sấy HTX Nhãn lồng Phố Hiến", "Hồng Nam", "Hưng Yên");
    let shop = place("Cửa hàng đặc sản Phố Hiến", "Hoàn Kiếm", "Hà Nội");
    let hill = place("Đồi chè Cầu Đất", "Xuân Trường - Đà Lạt", "Lâm Đồng");
    let events = vec![
        object(
            "2026-07-25T05:30:00+07:00",
            "commissioning",
            "active",
            q(&fresh_a, 3000, "KGM"),
            garden_a,
        ),
        object(
            "2026-07-27T05:30:00+07:00",
            "commissioning",
            "active",
            q(&fresh_b, 2500, "KGM"),
            garden_b,
        ),
        serde_json::json!({
            "type": "TransformationEvent", "eventTime": "2026-08-02T16:00:00+07:00",
            "eventTimeZoneOffset": "+07:00", "bizStep": "commissioning", "disposition": "active",
            "inputQuantityList": [
                { "epcClass": fresh_a, "quantity": 3000, "uom": "KGM" },
                { "epcClass": fresh_b, "quantity": 2500, "uom": "KGM" }
            ],
            "outputQuantityList": q(&dried, 1100, "KGM"),
            PLACE_FIELD: dryer.clone()
        }),
        object(
            "2026-08-05T09:00:00+07:00",
            "packing",
            "active",
            q(&dried, 4400, "H87"),
            dryer.clone(),
        ),
        object(
            "2026-08-06T07:00:00+07:00",
            "shipping",
            "in_transit",
            q(&dried, 400, "H87"),
            dryer,
        ),
        object(
            "2026-08-07T10:30:00+07:00",
            "receiving",
            "sellable_accessible",
            q(&dried, 400, "H87"),
            shop,
        ),
        certified(
            object(
                "2026-10-08T06:00:00+07:00",
                "commissioning",
                "active",
                q(&tea, 950, "KGM"),
                hill.clone(),
            ),
            tea_certified("2026-10-08")?,
        ),
        certified(
            object(
                "2026-10-20T08:00:00+07:00",
                "packing",
                "active",
                q(&tea, 3800, "H87"),
                hill,
            ),
            tea_certified("2026-10-20")?,
        ),
    ];
    let doc = serde_json::json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2026-11-23T08:00:00+07:00",
        "epcisBody": { "eventList": events }
    });
    let read = crate::domain::epcis::event::read_document(&doc)
        .map_err(|e| anyhow::anyhow!("demo events: {e}"))?;
    let pointers: Vec<String> = (0..read.len())
        .map(|i| format!("/epcisBody/eventList/{i}"))
        .collect();
    crate::app::events::capture(app, &Caller::cli(), &read, &pointers).await?;
    Ok(read.len())
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
