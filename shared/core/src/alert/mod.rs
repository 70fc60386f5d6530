//! Alerts: what a delivery calls for ([`plan`], with the health [`notices`]), how each reads ([`render`]), what SNS is given
//! ([`message`]) and how report text is made safe to show ([`sanitize`]). All pure: the AWS
//! crate claims and publishes what the plan returns.

pub mod chat;
mod commitment_plan;
pub mod commitment_render;
pub mod delivery;
pub mod message;
pub mod notices;
pub mod owed;
pub mod plan;
pub mod render;
pub mod sanitize;

pub use message::{Message, Severity};
pub use owed::{Alert, AlertKind};
pub use render::HealthCheck;
pub use sanitize::{report_text, sanitize_subject, sanitize_text};
