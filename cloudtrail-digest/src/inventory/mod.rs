//! S3 Inventory reports as the source of a run's listings: listing billions of keys costs
//! days of requests; the daily inventory lists them once. An inventory is a snapshot,
//! eventually consistent: it says where to look, and the objects themselves still prove
//! presence and absence (a key it lists that is gone is not found; the day folders from
//! shortly before it was taken onward are listed directly; see [`InventoryStore`]).

mod error;
mod manifest;
mod rows;
mod snapshot;
mod store;

pub use error::InventoryError;
pub use manifest::{DataFile, InventoryFormat, Manifest};
#[cfg(feature = "testing")]
pub use snapshot::read_data_file;
pub use snapshot::{Inventory, MAX_DATA_FILE};
pub use store::{cutoff_of, InventoryStore, INVENTORY_LAG};
