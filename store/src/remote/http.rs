//! Read-only arrays on web servers through zarrs_http, with bounded retries.

use std::sync::Arc;
use std::time::Duration;

use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator};
use zarrs::storage::{
    MaybeBytes, MaybeBytesIterator, ReadableStorageTraits, StorageError, StoreKey,
};

use chunkwise_engine::{Error, Result};

use super::{Remote, ATTEMPTS};

pub(super) fn http(url: &str) -> Result<Remote> {
    // The array's own URL is the base: with the server root as base and the array as node
    // path, zarrs_http would request "//a.zarr/...".
    let store =
        zarrs_http::HTTPStore::new(url).map_err(|e| Error::Invalid(format!("{url}: {e}")))?;
    let store = Retrying {
        inner: store,
        base: url.to_string(),
    };
    Ok(Remote {
        store: Arc::new(store),
        node: "/".to_string(),
        listing: None,
        object: None,
    })
}

/// Retries a failed request up to [`ATTEMPTS`] times with a growing pause, then reports the
/// last failure with the URL (a missing key is an answer, not a failure: it is not retried).
struct Retrying<S> {
    inner: S,
    base: String,
}

impl<S> Retrying<S> {
    fn retry<T>(
        &self,
        key: &StoreKey,
        mut call: impl FnMut() -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut pause = Duration::from_millis(50);
        let mut attempt = 1;
        loop {
            match call() {
                Ok(v) => return Ok(v),
                Err(e) if attempt >= ATTEMPTS => {
                    return Err(StorageError::Other(format!(
                        "{}/{}: {e} (after {ATTEMPTS} attempts)",
                        self.base,
                        key.as_str()
                    )))
                }
                Err(e) => {
                    tracing::debug!(url = %self.base, key = key.as_str(), attempt, error = %e, "retrying");
                    std::thread::sleep(pause);
                    pause *= 2;
                    attempt += 1;
                }
            }
        }
    }
}

impl<S: ReadableStorageTraits> ReadableStorageTraits for Retrying<S> {
    fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        self.retry(key, || self.inner.get(key))
    }

    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let ranges: Vec<ByteRange> = byte_ranges.collect();
        self.retry(key, || {
            self.inner
                .get_partial_many(key, Box::new(ranges.clone().into_iter()))
        })
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        self.retry(key, || self.inner.size_key(key))
    }

    fn supports_get_partial(&self) -> bool {
        self.inner.supports_get_partial()
    }
}
