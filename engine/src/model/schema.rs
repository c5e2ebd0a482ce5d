//! OpenAPI schemas (feature `openapi`) of the serde shapes utoipa's derive cannot express: a
//! status that is any string, a `Result` as serde writes it, a float that may travel as text.

use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use super::{Call, Decoded, JobStatus};

/// One of the known statuses, or any other string kept verbatim (`JobStatus::Other`).
impl PartialSchema for JobStatus {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "created, queued, started, finished, failed, deferred, scheduled, stopped, \
                 canceled, or an unknown status kept verbatim",
            ))
            .examples(["queued", "failed"])
            .into()
    }
}

impl ToSchema for JobStatus {}

/// How serde writes `JobDetail::call` (a `Result`): `{"Ok": Call}` or `{"Err": Decoded}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum CallOrNot {
    Ok(Call),
    Err(Decoded),
}

/// `PyValue::Float`: a number, or `nan` / `inf` / `-inf` as text (JSON has no such numbers).
pub struct WireFloat;

impl PartialSchema for WireFloat {
    fn schema() -> RefOr<Schema> {
        let text = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["nan", "inf", "-inf"]));
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(text)
            .into()
    }
}

impl ToSchema for WireFloat {}
