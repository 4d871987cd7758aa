//! Organizations: producers (cooperatives, enterprises, household businesses) and
//! authorities (departments, OCOP councils, certification bodies).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoStaticStr};

use super::province::{self, Province};
use super::validation::{Invalid, Refusal, Rule, Validator};

/// What an organization is; producers hold products, authorities issue certificates.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OrgKind {
    Cooperative,
    Enterprise,
    Household,
    Department,
    OcopCouncil,
    CertificationBody,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn is_producer(self) -> bool {
        matches!(self, Self::Cooperative | Self::Enterprise | Self::Household)
    }

    pub fn is_authority(self) -> bool {
        !self.is_producer()
    }

    /// The Vietnamese name a person reads.
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Cooperative => "Hợp tác xã",
            Self::Enterprise => "Doanh nghiệp",
            Self::Household => "Hộ kinh doanh",
            Self::Department => "Sở / cơ quan quản lý",
            Self::OcopCouncil => "Hội đồng OCOP",
            Self::CertificationBody => "Tổ chức chứng nhận",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Cooperative => "Cooperative",
            Self::Enterprise => "Enterprise",
            Self::Household => "Household business",
            Self::Department => "Department",
            Self::OcopCouncil => "OCOP council",
            Self::CertificationBody => "Certification body",
        }
    }
}

/// An organization as typed in a form, a JSON body or an import file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct OrganizationInput {
    #[schema(value_type = OrgKind)]
    pub kind: String,
    pub name: String,
    pub province: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A checked organization, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NewOrganization {
    pub kind: OrgKind,
    pub name: String,
    pub province: Province,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A stored organization.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Organization {
    pub id: i64,
    #[serde(flatten)]
    pub data: NewOrganization,
    /// When an inspector or an operator suspended the producer, if it is suspended.
    pub suspended_at: Option<DateTime<Utc>>,
    pub suspension_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrganizationInput {
    /// Checks every field; on success the organization is ready to store.
    pub fn validate(&self) -> Result<NewOrganization, Invalid> {
        let mut v = Validator::default();
        let kind = v.check_by(
            "kind",
            self.kind.trim().parse::<OrgKind>().map_err(|_| {
                Refusal::new(
                    Rule::NotInList,
                    Some(self.kind.trim().to_owned()),
                    "must be one of cooperative, enterprise, household, department, ocop_council, certification_body",
                )
            }),
        );
        let name = v.text("name", &self.name, 200);
        let province = v.check_by("province", province::parse(&self.province));
        let address = v.optional_text("address", self.address.as_deref(), 300);
        let phone = v.optional_text("phone", self.phone.as_deref(), 30);
        if let Some(p) = &phone {
            if !p
                .chars()
                .all(|c| c.is_ascii_digit() || " +-.()".contains(c))
            {
                v.refuse_by(
                    "phone",
                    Rule::Phone,
                    None,
                    "may hold only digits, spaces and + - . ( )",
                );
            }
        }
        let email = v.optional_text("email", self.email.as_deref(), 200);
        if let Some(e) = &email {
            if !e.contains('@') || e.contains(' ') {
                v.refuse_by("email", Rule::Email, None, "is not an e-mail address");
            }
        }
        v.finish()?;
        match (kind, province) {
            (Some(kind), Some(province)) => Ok(NewOrganization {
                kind,
                name,
                province,
                address,
                phone,
                email,
            }),
            _ => Err(Invalid::by(
                "kind",
                Refusal::new(Rule::Required, None, "is missing"),
            )),
        }
    }
}
