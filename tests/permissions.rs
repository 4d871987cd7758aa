//! The matrix of `docs/permissions.md`, walked over HTTP: every mutating route of the API
//! and the console, asked by everyone who might ask. What each may do is read from the
//! document here, by this test's own parser, not from the code under test; an allowed
//! request must succeed and leave one audit entry more, a refused one must leave every row
//! of the database as it was.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use truyxuat::app::access::{self, TokenRequest};
use truyxuat::app::labels::MintRequest;
use truyxuat::app::{Caller, accounts, recalls, registry};
use truyxuat::domain::batch::Profile;
use truyxuat::domain::certification::CertStatus;
use truyxuat::domain::people::{Membership, PersonInput, Role};
use truyxuat::domain::recall::RecallInput;
use truyxuat::domain::scan::NewReport;
use truyxuat::labelcode::{KeySeed, Keyring};

use crate::support::changes::Changes;
use crate::support::db::TestDb;
use crate::support::fixtures::{self, now};
use crate::support::http::{PASSWORD, Session, TestApp};

/// The matrix as the document states it: action → role → scope.
fn matrix() -> HashMap<String, HashMap<String, String>> {
    let doc = include_str!("../docs/permissions.md");
    let table = doc
        .split("## Matrix")
        .nth(1)
        .expect("a Matrix section")
        .lines()
        .filter(|l| l.starts_with('|'));
    let cells = |l: &str| -> Vec<String> {
        l.trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let mut rows = table.map(cells);
    let roles = rows.next().expect("a header row")[1..].to_vec();
    rows.skip(1) // the |---| row
        .map(|row| {
            let scopes = roles
                .iter()
                .cloned()
                .zip(row[1..].iter().cloned())
                .collect();
            (row[0].clone(), scopes)
        })
        .collect()
}

/// Where someone holds their role, seen from the cooperative whose records are asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    /// The cooperative itself.
    Here,
    /// Another cooperative of the same province.
    OtherCooperative,
    /// An authority of the cooperative's province.
    AuthorityHere,
    /// An authority of another province.
    AuthorityElsewhere,
    /// No organization: the operator.
    Nowhere,
}

/// How a request is made.
#[derive(Debug, Clone)]
enum Credential {
    None,
    Session(Session),
    Token(String),
}

/// Someone asking.
struct Asker {
    name: &'static str,
    /// The role they act with, and where; None for those the service does not know.
    role: Option<(Role, Place)>,
    /// For the API.
    token: Credential,
    /// For the console.
    session: Credential,
}

impl Asker {
    /// Whether the document lets them do `action` to the cooperative's records.
    fn may(
        &self,
        matrix: &HashMap<String, HashMap<String, String>>,
        action: &str,
        console: bool,
    ) -> bool {
        let Some((role, place)) = self.role else {
            return false;
        };
        let scope = &matrix
            .get(action)
            .unwrap_or_else(|| panic!("{action} is not in docs/permissions.md"))[&role.to_string()];
        // Evidence documents belong to no one, and an EPCIS event sent to the API is recorded
        // for the organization its maker acts for: any scope of the role covers them. (The
        // console records an event of the cooperative's own lot, for the cooperative.)
        let unowned = action == "document.store" || (action == "event.capture" && !console);
        match scope.as_str() {
            "all" => true,
            "own" => place == Place::Here || unowned,
            "province" => place == Place::AuthorityHere || unowned,
            "" | "self" => false,
            other => panic!("unknown scope {other}"),
        }
    }
}

/// The cooperative whose records are asked for, and what it has.
struct Records {
    cooperative: i64,
    authority: i64,
    product: i64,
    lot_code: String,
    keys: Keyring,
}

/// A fresh name for each request, so that allowed creations never collide.
fn fresh(what: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{what} {}", N.fetch_add(1, Ordering::Relaxed))
}

/// A mutating route: the action it is, where (the API or the console) and the status of an
/// allowed request.
struct Route {
    action: &'static str,
    console: bool,
    allowed: StatusCode,
    /// Another request of the same action ("photo": a product's photo; "gs1": a recall with
    /// GS1's fields; "workspace": the inspectors' form; "decision": revoking by one
    /// decision), or "".
    variant: &'static str,
}

/// A request to make: method, path, content type and body.
struct Asked {
    method: &'static str,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
}

fn api(method: &'static str, path: String, body: Value) -> Asked {
    Asked {
        method,
        path,
        content_type: "application/json",
        body: body.to_string().into_bytes(),
    }
}

fn form(path: String, fields: &[(&str, &str)]) -> Asked {
    Asked {
        method: "POST",
        path,
        content_type: "application/x-www-form-urlencoded",
        body: serde_urlencoded::to_string(fields).unwrap().into_bytes(),
    }
}

fn organization_body(name: &str) -> Value {
    json!({"kind": "cooperative", "name": name, "province": "Lâm Đồng", "phone": "0263 3820 999"})
}

fn product_body(producer: i64, name: &str) -> Value {
    json!({"producer_id": producer, "name": name, "category": "Đồ uống", "unit": "gói 200 g"})
}

fn certificate_body(r: &Records, number: &str) -> Value {
    json!({"holder_id": r.cooperative, "product_id": r.product, "issuer_id": r.authority,
           "kind": "ocop", "ocop_stars": 4, "number": number,
           "issued_on": "2025-01-15", "valid_until": "2028-01-14"})
}

fn lot_body(product: i64, code: &str) -> Value {
    json!({"product_id": product, "code": code, "produced_on": "2026-10-01"})
}

/// A new certificate of the cooperative, as submitted.
async fn new_certificate(app: &TestApp, r: &Records) -> i64 {
    let cert = fixtures::ocop(r.cooperative, r.authority, &fresh("QĐ"))
        .product(r.product)
        .build();
    app.db
        .store
        .create_certification(&cert, now())
        .await
        .unwrap()
        .id
}

/// A new lot of the cooperative's product: its id and code.
async fn new_lot(app: &TestApp, r: &Records) -> (i64, String) {
    let code = fresh("L").replace(' ', "-");
    let lot = fixtures::lot(r.product, &code).build();
    let id = app.db.store.create_lot(&lot, now()).await.unwrap().id;
    (id, code)
}

/// A recall with every GS1 field, of lot `lot`.
fn recall_body(lot: i64) -> serde_json::Value {
    json!({
        "lot_ids": [lot],
        "reason_code": "MICROBIAL_CONTAMINATION",
        "reason": "Phát hiện Salmonella",
        "risk_class": 1,
        "contact": "Chi cục QLCL, 0263 3822 000",
    })
}

/// An open recall of a new lot of the cooperative's product, made as the command line.
async fn new_recall(app: &TestApp, r: &Records) -> i64 {
    let (lot, _) = new_lot(app, r).await;
    let recall: RecallInput = serde_json::from_value(recall_body(lot)).unwrap();
    recalls::open(&app.app, &Caller::cli(), &recall.validate().unwrap())
        .await
        .unwrap()
        .id
}

/// A new batch of 10 labels of the cooperative's product.
async fn new_batch(app: &TestApp, r: &Records) -> i64 {
    let request = MintRequest {
        product_id: r.product,
        count: 10,
        lot: None,
        profile: Profile::Compact,
    };
    app.db
        .store
        .mint(&r.keys, &request, 1_000_000, now())
        .await
        .unwrap()
        .id
}

fn routes() -> Vec<Route> {
    use StatusCode as S;
    let route = |action, console, allowed| Route {
        action,
        console,
        allowed,
        variant: "",
    };
    vec![
        route("organization.create", false, S::CREATED),
        route("organization.update", false, S::OK),
        route("organization.suspend", false, S::OK),
        route("organization.reinstate", false, S::OK),
        route("product.create", false, S::CREATED),
        route("product.update", false, S::OK),
        Route {
            variant: "photo",
            ..route("product.update", false, S::OK)
        },
        route("certification.create", false, S::CREATED),
        route("certification.update", false, S::OK),
        route("certification.status", false, S::OK),
        route("lot.create", false, S::CREATED),
        route("lot.update", false, S::OK),
        route("lot.recall", false, S::OK),
        Route {
            variant: "gs1",
            ..route("lot.recall", false, S::CREATED)
        },
        route("recall.close", false, S::OK),
        route("document.store", false, S::CREATED),
        route("event.capture", false, S::CREATED),
        route("registry.import", false, S::CREATED),
        route("labels.mint", false, S::CREATED),
        route("labels.activate", false, S::OK),
        route("labels.void", false, S::OK),
        route("labels.print", false, S::OK),
        route("organization.create", true, S::SEE_OTHER),
        route("product.create", true, S::SEE_OTHER),
        route("product.update", true, S::SEE_OTHER),
        route("person.invite", true, S::OK),
        route("labels.mint", true, S::SEE_OTHER),
        route("labels.activate", true, S::SEE_OTHER),
        route("labels.void", true, S::SEE_OTHER),
        route("labels.print", true, S::OK),
        route("certification.status", true, S::SEE_OTHER),
        Route {
            variant: "decision",
            ..route("certification.status", true, S::SEE_OTHER)
        },
        route("organization.suspend", true, S::SEE_OTHER),
        route("organization.reinstate", true, S::SEE_OTHER),
        // The workspace admits inspectors and operators only, whatever else a role may do.
        Route {
            variant: "workspace",
            ..route("lot.recall", true, S::SEE_OTHER)
        },
        route("recall.close", true, S::SEE_OTHER),
        route("report.handle", true, S::SEE_OTHER),
        route("event.capture", true, S::SEE_OTHER),
        Route {
            variant: "wrong",
            ..route("event.capture", true, S::SEE_OTHER)
        },
    ]
}

/// The request for `route`, with what it needs made first (through the application layer,
/// as the command line); fresh names, so that allowed requests never collide.
async fn ask(route: &Route, app: &TestApp, r: &Records) -> Asked {
    let coop = r.cooperative;
    if route.variant == "photo" {
        // A photo of its own each time, so that every allowed one is a change.
        let n = fresh("").trim().parse::<usize>().unwrap_or(0);
        let shade = u8::try_from(n % 256).unwrap_or(0);
        let pixels = image::RgbImage::from_pixel(8, 6, image::Rgb([shade, 120, 60]));
        let mut png = std::io::Cursor::new(Vec::new());
        pixels.write_to(&mut png, image::ImageFormat::Png).unwrap();
        return Asked {
            method: "PUT",
            path: format!("/api/v1/products/{}/photo", r.product),
            content_type: "image/png",
            body: png.into_inner(),
        };
    }
    if route.variant == "decision" {
        // Only a verified certificate can be revoked.
        let id = new_certificate(app, r).await;
        let verified = CertStatus::Verified;
        registry::set_certification_status(&app.app, &Caller::cli(), id, verified, None)
            .await
            .unwrap();
        let id = id.to_string();
        let fields = [
            ("ids", id.as_str()),
            ("decision", "125/QĐ-UBND"),
            ("reason", "Không duy trì điều kiện"),
            ("back", "kind=certificates"),
        ];
        return form("/inspect/certificates/revoke".into(), &fields);
    }
    if route.variant == "gs1" {
        let (id, _) = new_lot(app, r).await;
        return api("POST", "/api/v1/recalls".into(), recall_body(id));
    }
    if route.variant == "wrong" {
        // A harvest of a new lot, recorded for the cooperative, declared wrong.
        let (lot, _) = new_lot(app, r).await;
        let typed = truyxuat::domain::epcis::record::RecordingInput {
            step: "harvested".into(),
            lot_id: Some(lot),
            date: "2026-08-01".into(),
            ..Default::default()
        };
        let recording = typed.validate(now()).unwrap();
        let id = truyxuat::app::events::record(&app.app, &Caller::cli(), &recording)
            .await
            .unwrap();
        return form("/console/events/wrong".into(), &[("event", id.as_str())]);
    }
    match (route.action, route.console) {
        ("organization.create", false) => api(
            "POST",
            "/api/v1/organizations".into(),
            organization_body(&fresh("HTX Mới")),
        ),
        ("organization.update", false) => api(
            "PUT",
            format!("/api/v1/organizations/{coop}"),
            organization_body("HTX Chè Cầu Đất"),
        ),
        ("organization.suspend", false) => api(
            "POST",
            format!("/api/v1/organizations/{coop}/suspend"),
            json!({"reason": "Vi phạm quy định ghi nhãn"}),
        ),
        ("organization.reinstate", false) => {
            registry::set_suspension(&app.app, &Caller::cli(), coop, Some("kiểm tra"))
                .await
                .unwrap();
            api(
                "POST",
                format!("/api/v1/organizations/{coop}/reinstate"),
                json!({}),
            )
        }
        ("product.create", false) => api(
            "POST",
            "/api/v1/products".into(),
            product_body(coop, &fresh("Chè")),
        ),
        ("product.update", false) => api(
            "PUT",
            format!("/api/v1/products/{}", r.product),
            product_body(coop, &fresh("Chè Ô Long")),
        ),
        ("certification.create", false) => api(
            "POST",
            "/api/v1/certifications".into(),
            certificate_body(r, &fresh("QĐ")),
        ),
        ("certification.update", false) => {
            let id = new_certificate(app, r).await;
            let path = format!("/api/v1/certifications/{id}");
            api("PUT", path, certificate_body(r, &fresh("QĐ")))
        }
        ("certification.status", false) => {
            let id = new_certificate(app, r).await;
            let path = format!("/api/v1/certifications/{id}/status");
            api("POST", path, json!({"status": "verified"}))
        }
        ("lot.create", false) => api(
            "POST",
            "/api/v1/lots".into(),
            lot_body(r.product, &fresh("L").replace(' ', "-")),
        ),
        ("lot.update", false) => {
            let (id, code) = new_lot(app, r).await;
            let mut body = lot_body(r.product, &code);
            body["quantity"] = json!(900);
            api("PUT", format!("/api/v1/lots/{id}"), body)
        }
        ("lot.recall", false) => {
            let (id, _) = new_lot(app, r).await;
            let body = json!({"reason": "nhiễm nấm mốc"});
            api("POST", format!("/api/v1/lots/{id}/recall"), body)
        }
        ("document.store", false) => Asked {
            method: "POST",
            path: "/api/v1/documents".into(),
            content_type: "application/pdf",
            body: format!("%PDF-1.7 {}", fresh("evidence")).into_bytes(),
        },
        ("registry.import", false) => {
            let mut org = organization_body(&fresh("HTX Nhập"));
            org["key"] = json!("htx");
            api(
                "POST",
                "/api/v1/import".into(),
                json!({"organizations": [org]}),
            )
        }
        ("labels.mint", false) => api(
            "POST",
            "/api/v1/batches".into(),
            json!({"product_id": r.product, "count": 50}),
        ),
        ("labels.activate", false) => {
            let id = new_batch(app, r).await;
            let path = format!("/api/v1/batches/{id}/activate");
            api("POST", path, json!({"lot": r.lot_code, "range": "0..5"}))
        }
        ("labels.void", false) => {
            let id = new_batch(app, r).await;
            let path = format!("/api/v1/batches/{id}/void");
            api("POST", path, json!({"range": "2..4"}))
        }
        ("labels.print", false) => {
            let id = new_batch(app, r).await;
            Asked {
                method: "GET",
                path: format!("/api/v1/batches/{id}/labels?range=0..3"),
                content_type: "application/json",
                body: Vec::new(),
            }
        }
        ("organization.create", true) => {
            let name = fresh("HTX Mới");
            let fields = [
                ("kind", "cooperative"),
                ("name", name.as_str()),
                ("province", "Lâm Đồng"),
            ];
            form("/console/organizations/new".into(), &fields)
        }
        ("product.create", true) | ("product.update", true) => {
            let path = if route.action == "product.create" {
                "/console/products/new".to_owned()
            } else {
                format!("/console/products/{}", r.product)
            };
            let (producer, name) = (coop.to_string(), fresh("Cà phê"));
            let fields = [
                ("producer_id", producer.as_str()),
                ("name", name.as_str()),
                ("category", "Đồ uống"),
                ("unit", "gói 500 g"),
            ];
            form(path, &fields)
        }
        ("person.invite", true) => {
            let org = coop.to_string();
            let fields = [("organization_id", org.as_str()), ("role", "viewer")];
            form("/console/invite".into(), &fields)
        }
        ("certification.status", true) => {
            let id = new_certificate(app, r).await;
            let fields = [("decision", "verify"), ("reason", "")];
            form(format!("/inspect/certificates/{id}"), &fields)
        }
        ("organization.suspend", true) => {
            let fields = [
                ("action", "suspend"),
                ("reason", "Vi phạm quy định ghi nhãn"),
            ];
            form(format!("/inspect/producers/{coop}/suspension"), &fields)
        }
        ("organization.reinstate", true) => {
            registry::set_suspension(&app.app, &Caller::cli(), coop, Some("kiểm tra"))
                .await
                .unwrap();
            let fields = [("action", "reinstate"), ("reason", "")];
            form(format!("/inspect/producers/{coop}/suspension"), &fields)
        }
        ("labels.mint", true) => {
            let product = r.product.to_string();
            let fields = [("product_id", product.as_str()), ("count", "1.000")];
            form("/console/batches".into(), &fields)
        }
        ("labels.activate", true) => {
            let id = new_batch(app, r).await;
            let fields = [("lot", r.lot_code.as_str()), ("range", "0..5")];
            form(format!("/console/batches/{id}/activate"), &fields)
        }
        ("labels.void", true) => {
            let id = new_batch(app, r).await;
            form(format!("/console/batches/{id}/void"), &[("range", "2..4")])
        }
        // A download records who took copies of which labels: one audit entry too.
        ("labels.print", true) => {
            let id = new_batch(app, r).await;
            let fields = [("format", "csv"), ("range", "0..3")];
            form(format!("/console/batches/{id}/print"), &fields)
        }
        ("recall.close", false) => {
            let id = new_recall(app, r).await;
            let body = json!({"note": "đã thu hồi hết"});
            api("POST", format!("/api/v1/recalls/{id}/close"), body)
        }
        ("lot.recall", true) => {
            let (id, _) = new_lot(app, r).await;
            let lot = id.to_string();
            let fields = [
                ("lot_ids", lot.as_str()),
                ("reason_code", "FOREIGN_MATTER"),
                ("reason", "Có dị vật kim loại"),
                ("risk_class", "2"),
                ("contact", "Chi cục QLCL, 0263 3822 000"),
            ];
            form(format!("/inspect/lots/{id}/recall"), &fields)
        }
        ("recall.close", true) => {
            let id = new_recall(app, r).await;
            let stored = truyxuat::store::LotStore::recall(app.db.store.as_ref(), id).await;
            let lot = stored.unwrap().unwrap().data.lot_ids[0];
            let lot = lot.to_string();
            let fields = [("lot", lot.as_str()), ("note", "đã thu hồi hết")];
            form(format!("/inspect/recalls/{id}/close"), &fields)
        }
        ("report.handle", true) => {
            let report = NewReport {
                batch_id: None,
                label_index: None,
                product_id: Some(r.product),
                message: "Tem bị bóc".into(),
                contact: None,
            };
            let id = app.db.store.add_report(&report, now()).await.unwrap();
            let fields = [("action", "take"), ("note", "")];
            form(format!("/inspect/reports/{id}"), &fields)
        }
        // A harvest of its own each time (the id is the event's hash), so that every allowed
        // capture is a new event.
        ("event.capture", false) => {
            let n = fresh("").trim().parse::<u32>().unwrap_or(0);
            let time = format!("2026-08-01T{:02}:{:02}:00+07:00", n / 60 % 24, n % 60);
            let class = "https://id.gs1.org/01/08936012345674/10/L1";
            let doc = crate::support::epcis::harvest(class, &time);
            api("POST", "/epcis/capture".into(), doc)
        }
        // The lot diary's form: a harvest of a new lot of the cooperative each time.
        ("event.capture", true) => {
            let (lot, _) = new_lot(app, r).await;
            let lot = lot.to_string();
            let fields = [
                ("step", "harvested"),
                ("lot_id", lot.as_str()),
                ("date", "2026-08-01"),
                ("quantity", "1.200"),
                ("place", "Vườn VT-TN-0451"),
            ];
            form("/console/events".into(), &fields)
        }
        (action, console) => panic!("no request for {action} (console: {console})"),
    }
}

/// Makes a person with `role` at `organization` (None: an operator), signs them in and
/// makes them a token; returns the session and the token.
async fn person(
    app: &TestApp,
    login: &str,
    organization: Option<i64>,
    role: Role,
    token_role: Role,
) -> (Session, String) {
    let input = PersonInput {
        login: login.into(),
        display_name: format!("Người thử {login}"),
    }
    .validate()
    .unwrap();
    let membership = match organization {
        Some(org) => Membership::of(org, role),
        None => Membership::operator(),
    };
    let person = accounts::create_person(
        &app.app,
        &Caller::cli(),
        &input,
        &[membership],
        Some(PASSWORD),
    )
    .await
    .unwrap();
    let request = TokenRequest {
        organization_id: organization,
        role: token_role,
        name: "thử".into(),
        days: 30,
    };
    let (token, _) = access::create_token(&app.app, &Caller::cli(), person.id, &request)
        .await
        .unwrap();
    let session = app.sign_in(login, PASSWORD).await.unwrap_or_else(|r| {
        panic!("{login} cannot sign in: {} {}", r.status, r.body);
    });
    (session, token)
}

async fn audit_count(app: &TestApp) -> usize {
    app.db
        .snapshot()
        .await
        .into_iter()
        .find(|(table, _)| table == "audit_entries")
        .expect("an audit table")
        .1
        .len()
}

async fn walk_the_matrix(db: TestDb) {
    let app = TestApp::on(db).await;
    let store = &app.db.store;
    let cooperative = store
        .create_organization(&fixtures::cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap()
        .id;
    let neighbour = store
        .create_organization(&fixtures::cooperative("HTX Rau Đà Lạt").build(), now())
        .await
        .unwrap()
        .id;
    let authority = store
        .create_organization(&fixtures::department("Sở NN&MT Lâm Đồng").build(), now())
        .await
        .unwrap()
        .id;
    let elsewhere = store
        .create_organization(
            &fixtures::department("Sở NN&MT Thái Nguyên")
                .province("Thái Nguyên")
                .build(),
            now(),
        )
        .await
        .unwrap()
        .id;
    let product = store
        .create_product(&fixtures::product(cooperative, "Chè Ô Long").build(), now())
        .await
        .unwrap()
        .id;
    let lot_code = "CD-2026-10".to_owned();
    store
        .create_lot(&fixtures::lot(product, &lot_code).build(), now())
        .await
        .unwrap();
    let keys = Keyring::single(KeySeed::from_bytes([7; 32]), now());
    let records = Records {
        cooperative,
        authority,
        product,
        lot_code,
        keys,
    };

    use Place::*;
    use Role::*;
    let mut askers = vec![Asker {
        name: "anonymous",
        role: None,
        token: Credential::None,
        session: Credential::None,
    }];
    let people = [
        ("owner", "chu@htx.vn", Owner, Here, Some(cooperative)),
        ("editor", "bientap@htx.vn", Editor, Here, Some(cooperative)),
        ("printer", "inte@htx.vn", Printer, Here, Some(cooperative)),
        ("viewer", "xem@htx.vn", Viewer, Here, Some(cooperative)),
        (
            "another cooperative's owner",
            "chu@rau.vn",
            Owner,
            OtherCooperative,
            Some(neighbour),
        ),
        (
            "inspector of this province",
            "thanhtra@ld.vn",
            Inspector,
            AuthorityHere,
            Some(authority),
        ),
        (
            "inspector of another province",
            "thanhtra@tn.vn",
            Inspector,
            AuthorityElsewhere,
            Some(elsewhere),
        ),
        ("operator", "vanhanh@tinh.vn", Operator, Nowhere, None),
    ];
    for (name, login, role, place, org) in people {
        let (session, token) = person(&app, login, org, role, role).await;
        askers.push(Asker {
            name,
            role: Some((role, place)),
            token: Credential::Token(token),
            session: Credential::Session(session),
        });
    }
    // An editor's token that acts as a viewer only.
    let (_, narrow) = person(&app, "bientap2@htx.vn", Some(cooperative), Editor, Viewer).await;
    askers.push(Asker {
        name: "an editor's token with the viewer role",
        role: Some((Viewer, Here)),
        token: Credential::Token(narrow.clone()),
        // A token is no way into the console.
        session: Credential::Token(narrow),
    });
    // An owner's token, revoked.
    let (_, revoked) = person(&app, "chu2@htx.vn", Some(cooperative), Owner, Owner).await;
    let owner2 = store
        .person_by_login("chu2@htx.vn")
        .await
        .unwrap()
        .unwrap()
        .0;
    let token_id = store.api_tokens_of(owner2.id).await.unwrap()[0].id;
    access::revoke_token(&app.app, &Caller::cli(), token_id)
        .await
        .unwrap();
    askers.push(Asker {
        name: "a revoked token",
        role: None,
        token: Credential::Token(revoked.clone()),
        session: Credential::Token(revoked),
    });
    // Each token's first use notes when it was used; make that happen before the walk, whose
    // clock stands still, so that a refusal must change nothing at all.
    for asker in &askers {
        if let Credential::Token(t) = &asker.token {
            app.get_with("/api/v1/products", "authorization", &format!("Bearer {t}"))
                .await;
        }
    }

    let matrix = matrix();
    let mut walked = 0;
    for route in routes() {
        for asker in &askers {
            let asked = ask(&route, &app, &records).await;
            let before = app.db.snapshot().await;
            let credential = if route.console {
                &asker.session
            } else {
                &asker.token
            };
            let mut request = Request::builder()
                .method(asked.method)
                .uri(&asked.path)
                .header(header::CONTENT_TYPE, asked.content_type);
            let mut body = asked.body;
            match credential {
                Credential::None => {}
                Credential::Token(t) => {
                    request = request.header(header::AUTHORIZATION, format!("Bearer {t}"))
                }
                Credential::Session(s) => {
                    request = request.header(header::COOKIE, &s.cookie);
                    body.extend(format!("&csrf={}", s.csrf).bytes());
                }
            }
            let reply = app.send(request.body(Body::from(body)).unwrap()).await;
            let may = asker.may(&matrix, route.action, route.console)
                && (route.variant != "workspace"
                    || matches!(asker.role, Some((Role::Inspector | Role::Operator, _))));
            let known = matches!(credential, Credential::Session(_))
                || (!route.console && asker.role.is_some());
            let expected = match (may, known, route.console) {
                (true, _, _) => route.allowed,
                (false, true, _) => StatusCode::FORBIDDEN,
                // Strangers are sent to sign in, machines told they are not signed in.
                (false, false, true) => StatusCode::SEE_OTHER,
                (false, false, false) => StatusCode::UNAUTHORIZED,
            };
            let what = format!(
                "{} {} ({}) by {}",
                asked.method, asked.path, route.action, asker.name
            );
            assert_eq!(reply.status, expected, "{what}: {}", reply.body);
            let after = app.db.snapshot().await;
            if may {
                let count = |s: &[(String, Vec<String>)]| {
                    s.iter()
                        .find(|(t, _)| t == "audit_entries")
                        .unwrap()
                        .1
                        .len()
                };
                assert_eq!(count(&after), count(&before) + 1, "{what}: one audit entry");
            } else {
                if expected == StatusCode::SEE_OTHER {
                    assert!(reply.header("location").starts_with("/login"), "{what}");
                } else if !route.console {
                    assert_eq!(reply.header("content-type"), "application/problem+json");
                }
                for ((table, rows), (_, rows_after)) in before.iter().zip(&after) {
                    assert_eq!(rows, rows_after, "{what} changed {table}");
                }
            }
            // The cooperative is not left suspended for the next request.
            let suspended = store.organization(cooperative).await.unwrap().unwrap();
            if suspended.suspended_at.is_some() {
                registry::set_suspension(&app.app, &Caller::cli(), cooperative, None)
                    .await
                    .unwrap();
            }
            walked += 1;
        }
    }
    assert_eq!(walked, routes().len() * askers.len());
    assert!(audit_count(&app).await > 0);
    app.db.finish().await;
}

mod sqlite {
    #[tokio::test]
    async fn every_mutating_route_answers_each_asker_as_the_matrix_says() {
        super::walk_the_matrix(crate::support::db::TestDb::sqlite().await).await;
    }
}

mod postgres {
    #[tokio::test]
    async fn every_mutating_route_answers_each_asker_as_the_matrix_says() {
        super::walk_the_matrix(crate::support::db::TestDb::postgres().await).await;
    }
}

#[test]
fn the_test_reads_the_whole_matrix() {
    let matrix = matrix();
    assert!(matrix.len() >= 25, "{matrix:?}");
    assert_eq!(matrix["certification.status"]["inspector"], "province");
    assert_eq!(matrix["organization.create"]["owner"], "");
    // Every action a route above claims is in the document.
    for route in routes() {
        assert!(matrix.contains_key(route.action), "{}", route.action);
    }
}

#[tokio::test]
async fn a_suspended_producer_reads_but_changes_nothing_and_its_labels_say_so() {
    let app = TestApp::with_demo().await;
    let store = &app.db.store;
    let orgs = store
        .list_organizations(&truyxuat::store::ListQuery::default())
        .await
        .unwrap();
    let id_of = |name: &str| orgs.iter().find(|o| o.data.name == name).unwrap().id;
    let coop = id_of("HTX Nông nghiệp Dịch vụ Xuân Thọ");
    let council = id_of("Hội đồng OCOP tỉnh Lâm Đồng");
    let (_, inspector) = person(
        &app,
        "thanhtra@ld.vn",
        Some(council),
        Role::Inspector,
        Role::Inspector,
    )
    .await;
    let (_, editor) = person(
        &app,
        "bientap@xt.vn",
        Some(coop),
        Role::Editor,
        Role::Editor,
    )
    .await;
    let label = crate::support::labels::mint(&app, 1, 1, Some("CD-2026-10A"))
        .await
        .remove(0);
    let call = async |token: &str, method: &str, path: &str, body: Value| {
        app.send(
            Request::builder()
                .method(method)
                .uri(path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    };
    let rename = json!({"producer_id": coop, "name": "Chè Ô Long Cầu Đất", "category": "Đồ uống", "unit": "hộp 100 g", "gtin": "8936049120015"});

    let reason = "Vi phạm an toàn thực phẩm";
    let suspended = call(
        &inspector,
        "POST",
        &format!("/api/v1/organizations/{coop}/suspend"),
        json!({"reason": reason}),
    )
    .await;
    assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.body);
    assert!(suspended.json()["suspended_at"].is_string());
    let again = call(
        &inspector,
        "POST",
        &format!("/api/v1/organizations/{coop}/suspend"),
        json!({"reason": reason}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // Shoppers see it on the label page, beside a verdict that stays true.
    let page = app.get(&label).await;
    assert_eq!(page.texts("#verdict strong"), vec!["Tem chính hãng"]);
    assert_eq!(
        page.texts("#suspended strong"),
        vec!["Cơ sở sản xuất đang bị đình chỉ"]
    );
    assert_eq!(page.texts("#suspended b"), vec![reason]);

    // The cooperative's people read, and change nothing.
    assert_eq!(
        call(&editor, "GET", "/api/v1/products/1", json!(null))
            .await
            .status,
        StatusCode::OK
    );
    let refused = call(&editor, "PUT", "/api/v1/products/1", rename.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let mint = call(
        &editor,
        "POST",
        "/api/v1/batches",
        json!({"product_id": 1, "count": 5}),
    )
    .await;
    assert_eq!(mint.status, StatusCode::FORBIDDEN);

    let reinstated = call(
        &inspector,
        "POST",
        &format!("/api/v1/organizations/{coop}/reinstate"),
        json!({}),
    )
    .await;
    assert_eq!(reinstated.status, StatusCode::OK, "{}", reinstated.body);
    assert!(reinstated.json()["suspended_at"].is_null());
    assert_eq!(
        call(&editor, "PUT", "/api/v1/products/1", rename)
            .await
            .status,
        StatusCode::OK
    );
    assert!(app.get(&label).await.texts("#suspended").is_empty());
    // Both decisions are in the audit log, by the inspector.
    let actions: Vec<String> = store
        .audit_entries(0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.entry().unwrap().action)
        .filter(|a| a.starts_with("organization.s") || a.starts_with("organization.r"))
        .collect();
    assert_eq!(
        actions,
        vec!["organization.suspend", "organization.reinstate"]
    );
}
