//! Evidence about the training data: its schema ([`schema`]), prohibited data categories
//! ([`prohibited`]), the preprocessing steps that produced it ([`lineage`]) and drift
//! between training and serving data ([`drift`]).

pub mod drift;
pub mod lineage;
pub mod prohibited;
pub mod schema;
