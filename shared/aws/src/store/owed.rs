//! An alert the plan owes, in the shape it is kept in DynamoDB until it is sent: the core's
//! (see `billwatch_core::delivery`), kept here under its old path.

pub use billwatch_core::delivery::Owed;
