//! Arrays on object stores and web servers, opened as zarrs storage: `s3://` (and `gs://`,
//! `az://` behind cargo features) through zarrs_object_store, `http(s)://` through zarrs_http.
//! Both are wrapped so that a failed request is retried a bounded number of times and then
//! reported with the URL it was for.

use std::sync::{Arc, RwLock};

use zarrs::storage::{ListableStorageTraits, ReadableStorageTraits, StorePrefix};

use chunkwise_engine::{Error, Result};

use crate::location::Location;

/// Object-store settings the environment does not give (the CLI's `--s3-endpoint` and
/// `--anonymous`); credentials and region come from the standard AWS environment variables
/// (else the instance metadata service).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RemoteOptions {
    /// The S3 endpoint, e.g. `http://127.0.0.1:9000` (default: `AWS_ENDPOINT_URL`, else AWS).
    pub s3_endpoint: Option<String>,
    /// Send unsigned requests (public buckets): no credentials are looked up.
    pub anonymous: bool,
}

impl RemoteOptions {
    /// Options with `endpoint` and `anonymous` set.
    pub fn new(s3_endpoint: Option<String>, anonymous: bool) -> Self {
        Self {
            s3_endpoint,
            anonymous,
        }
    }
}

static OPTIONS: RwLock<Option<RemoteOptions>> = RwLock::new(None);

/// Sets the object-store settings for every array opened from now on in this process (as the
/// AWS environment variables it complements are process-wide).
pub fn set_remote_options(options: RemoteOptions) {
    *OPTIONS.write().unwrap_or_else(|p| p.into_inner()) = Some(options);
}

#[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
fn remote_options() -> RemoteOptions {
    OPTIONS
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .unwrap_or_default()
}

/// Requests made for one read before its failure is reported.
#[cfg(any(feature = "http", feature = "s3", feature = "gcs", feature = "azure"))]
const ATTEMPTS: u32 = 4;

/// An array's remote store, opened.
pub(crate) struct Remote {
    /// The storage to read from.
    pub(crate) store: Arc<dyn ReadableStorageTraits>,
    /// The array's zarrs node path in it.
    pub(crate) node: String,
    /// The same store listed, for object stores: asked why an array could not be opened.
    listing: Option<Arc<dyn ListableStorageTraits>>,
    /// The same store, for object stores: reads ahead go through its client.
    pub(crate) object: Option<Arc<ObjectStorage>>,
}

impl Remote {
    /// Why nothing could be read, when the store says more than "not found": the bucket does
    /// not exist, the credentials are refused, the endpoint does not answer.
    pub(crate) fn why_unreadable(&self) -> Option<String> {
        let listing = self.listing.as_ref()?;
        let prefix = StorePrefix::new(format!("{}/", self.node.trim_matches('/'))).ok()?;
        listing
            .list_dir(&prefix)
            .err()
            .map(|e| one_line(&e.to_string()))
    }
}

/// An object store's error on one line: its XML body's code and message ("NoSuchBucket: The
/// specified bucket does not exist") when it has one, else the text with its line breaks
/// folded.
pub(crate) fn one_line(error: &str) -> String {
    let tag = |name: &str| {
        let (_, rest) = error.split_once(&format!("<{name}>"))?;
        rest.split_once(&format!("</{name}>")).map(|(v, _)| v)
    };
    match (tag("Code"), tag("Message")) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        _ => error.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// Readable zarrs storage for a remote `location`.
///
/// # Errors
/// [`Error::Invalid`] for a kind of store this build does not include, or settings the store
/// client refuses (a malformed endpoint).
pub(crate) fn readable(location: &Location) -> Result<Remote> {
    let bucket = |opened: Result<Arc<object::Storage>>, prefix: &str| -> Result<Remote> {
        let storage = opened?;
        Ok(Remote {
            store: storage.clone(),
            node: format!("/{prefix}"),
            listing: Some(storage.clone()),
            object: Some(storage),
        })
    };
    match location {
        Location::Local(path) => Err(Error::Invalid(format!(
            "{} is a local path, not a remote store",
            path.display()
        ))),
        Location::Http(url) => http(url),
        Location::S3 { bucket: b, prefix } => bucket(object::s3(b), prefix),
        Location::Gcs { bucket: b, prefix } => bucket(object::gcs(b), prefix),
        Location::Azure { container, prefix } => bucket(object::azure(container), prefix),
    }
}

/// Writes an object-store output keeps in flight by default: at ~20 ms a request, 2 workers
/// producing a chunk every few milliseconds need dozens in flight not to wait.
pub(crate) const OBJECT_STORE_REQUESTS: usize = 32;

/// The synchronous storage of an object-store bucket (outputs write through it).
pub(crate) type ObjectStorage = object::Storage;
pub(crate) use object::{get_behind, set_behind};

/// The bucket of a remote output `location` and the output's key prefix in it.
///
/// # Errors
/// [`Error::Invalid`] for a location that cannot be written (a web server, the bucket's root),
/// a kind of store this build does not include, or settings the store client refuses.
pub(crate) fn writable(location: &Location) -> Result<(Arc<ObjectStorage>, String)> {
    let (opened, prefix, url) = match location {
        Location::S3 { bucket, prefix } => (object::s3(bucket), prefix, format!("s3://{bucket}")),
        Location::Gcs { bucket, prefix } => (object::gcs(bucket), prefix, format!("gs://{bucket}")),
        Location::Azure { container, prefix } => (
            object::azure(container),
            prefix,
            format!("az://{container}"),
        ),
        Location::Local(_) | Location::Http(_) => {
            return Err(Error::Invalid(format!(
                "cannot write to {location:?}: not an object store"
            )))
        }
    };
    if prefix.is_empty() {
        // Replacing or removing an output deletes everything under its prefix: at the root
        // that would be the whole bucket.
        return Err(Error::Invalid(format!(
            "cannot write to {url}: an output needs its own prefix in the bucket, e.g. \
             {url}/out.zarr"
        )));
    }
    Ok((opened?, prefix.clone()))
}

#[cfg(feature = "http")]
mod http;
#[cfg(feature = "http")]
use http::http;

#[cfg(not(feature = "http"))]
fn http(url: &str) -> Result<Remote> {
    Err(missing_feature(url, "http"))
}

#[cfg(not(all(feature = "http", feature = "s3", feature = "gcs", feature = "azure")))]
fn missing_feature(url: &str, feature: &str) -> Error {
    Error::Invalid(format!(
        "{url}: this build of chunkwise does not include the `{feature}` cargo feature; \
         rebuild with --features {feature}"
    ))
}

#[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
mod object;

#[cfg(not(any(feature = "s3", feature = "gcs", feature = "azure")))]
mod object {
    //! Without an object-store feature every bucket URL is refused, naming the feature.

    use std::sync::Arc;

    use chunkwise_engine::Result;

    /// Stands in for the object-store storage type; never made.
    pub(crate) type Storage = zarrs::storage::store::MemoryStore;

    /// Reads `key` at once (the stand-in has no client to hand it to).
    pub(crate) fn get_behind(
        storage: &Storage,
        key: zarrs::storage::StoreKey,
        then: impl FnOnce(Result<zarrs::storage::MaybeBytes, zarrs::storage::StorageError>)
            + Send
            + 'static,
    ) {
        use zarrs::storage::ReadableStorageTraits;
        then(storage.get(&key));
    }

    /// Stores `puts` in turn, at once (the stand-in has no client to hand them to).
    pub(crate) fn set_behind(
        storage: &Storage,
        puts: Vec<(zarrs::storage::StoreKey, zarrs::storage::Bytes)>,
        then: impl FnOnce(Result<(), zarrs::storage::StorageError>) + Send + 'static,
    ) {
        use zarrs::storage::WritableStorageTraits;
        then(puts.into_iter().try_for_each(|(k, v)| storage.set(&k, v)));
    }

    pub(super) fn s3(bucket: &str) -> Result<Arc<Storage>> {
        Err(super::missing_feature(&format!("s3://{bucket}"), "s3"))
    }

    pub(super) fn gcs(bucket: &str) -> Result<Arc<Storage>> {
        Err(super::missing_feature(&format!("gs://{bucket}"), "gcs"))
    }

    pub(super) fn azure(container: &str) -> Result<Arc<Storage>> {
        Err(super::missing_feature(
            &format!("az://{container}"),
            "azure",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn an_object_store_error_is_folded_to_its_code_and_message() {
        let e = "Error performing GET http://x/b in 6ms - 404 Not Found: <?xml version=\"1.0\"?>\n\
                 <Error><Code>NoSuchBucket</Code><Message>The specified bucket does not \
                 exist</Message><BucketName>b</BucketName></Error>";
        assert_eq!(
            one_line(e),
            "NoSuchBucket: The specified bucket does not exist"
        );
        assert_eq!(one_line("a\n  b"), "a b");
    }
}
