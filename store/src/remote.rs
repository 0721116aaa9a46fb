//! Arrays on object stores and web servers, opened as zarrs storage: `s3://` (and `gs://`,
//! `az://` behind cargo features) through zarrs_object_store, `http(s)://` through zarrs_http.
//! Both are wrapped so that a failed request is retried a bounded number of times and then
//! reported with the URL it was for.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use zarrs::storage::byte_range::ByteRange;
use zarrs::storage::{
    ListableStorageTraits, MaybeBytes, MaybeBytesIterator, ReadableStorageTraits, StorageError,
    StoreKey, StorePrefix,
};

use chunkwise_engine::{Error, Result};

use crate::location::Location;

/// Object-store settings the environment does not give (the CLI's `--s3-endpoint` and
/// `--anonymous`); credentials and region come from the standard AWS environment and files.
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

fn remote_options() -> RemoteOptions {
    OPTIONS
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .unwrap_or_default()
}

/// Requests made for one read before its failure is reported.
const ATTEMPTS: u32 = 4;

/// An array's remote store, opened.
pub(crate) struct Remote {
    /// The storage to read from.
    pub(crate) store: Arc<dyn ReadableStorageTraits>,
    /// The array's zarrs node path in it.
    pub(crate) node: String,
    /// The same store listed, for object stores: asked why an array could not be opened.
    listing: Option<Arc<dyn ListableStorageTraits>>,
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
            listing: Some(storage),
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

#[cfg(feature = "http")]
fn http(url: &str) -> Result<Remote> {
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
    })
}

#[cfg(not(feature = "http"))]
fn http(url: &str) -> Result<Remote> {
    Err(missing_feature(url, "http"))
}

fn missing_feature(url: &str, feature: &str) -> Error {
    Error::Invalid(format!(
        "{url}: this build of chunkwise does not include the `{feature}` cargo feature; \
         rebuild with --features {feature}"
    ))
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
        byte_ranges: zarrs::storage::byte_range::ByteRangeIterator<'a>,
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

#[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
mod object {
    //! Object stores through zarrs_object_store, used from our synchronous worker threads.

    use std::future::Future;
    use std::sync::{Arc, OnceLock};
    use std::time::Duration;

    use zarrs::storage::storage_adapter::async_to_sync::{
        AsyncToSyncBlockOn, AsyncToSyncStorageAdapter,
    };
    use zarrs::storage::{
        AsyncReadableStorageTraits, Bytes, ListableStorageTraits, MaybeBytes, MaybeBytesIterator,
        OffsetBytesIterator, ReadableStorageTraits, StorageError, StoreKey, StoreKeys,
        StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
    };
    use zarrs_object_store::object_store::{ObjectStore, RetryConfig};
    use zarrs_object_store::AsyncObjectStore;

    use chunkwise_engine::{Error, Result};

    type Async = AsyncObjectStore<Arc<dyn ObjectStore>>;

    /// The runtime the object-store client runs on: its own threads, driven from ours with
    /// `block_on` (never from inside it: tokio refuses nested runtimes).
    fn runtime() -> Result<&'static tokio::runtime::Runtime> {
        static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        if let Some(rt) = RUNTIME.get() {
            return Ok(rt);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("chunkwise-io")
            .enable_all()
            .build()
            .map_err(|e| Error::Invalid(format!("cannot start the object-store client: {e}")))?;
        Ok(RUNTIME.get_or_init(|| rt))
    }

    #[derive(Clone)]
    struct BlockOn(tokio::runtime::Handle);

    impl AsyncToSyncBlockOn for BlockOn {
        fn block_on<F: Future>(&self, future: F) -> F::Output {
            self.0.block_on(future)
        }
    }

    /// An object store as synchronous zarrs storage. zarrs' adapter turns a whole-value `get`
    /// into a HEAD and a ranged GET; here `get` is one GET, everything else goes through it.
    pub(crate) struct Storage {
        store: Arc<Async>,
        adapter: AsyncToSyncStorageAdapter<Async, BlockOn>,
        block_on: BlockOn,
    }

    impl Storage {
        fn new(store: Arc<dyn ObjectStore>) -> Result<Arc<Self>> {
            let block_on = BlockOn(runtime()?.handle().clone());
            let store = Arc::new(AsyncObjectStore::new(store));
            Ok(Arc::new(Self {
                adapter: AsyncToSyncStorageAdapter::new(store.clone(), block_on.clone()),
                store,
                block_on,
            }))
        }
    }

    /// Requests are retried a few times within half a minute, then fail (object_store's
    /// default is 10 retries within 3 minutes: a wrong endpoint would hang a run for minutes).
    fn retry() -> RetryConfig {
        RetryConfig {
            max_retries: super::ATTEMPTS as usize - 1,
            retry_timeout: Duration::from_secs(30),
            ..RetryConfig::default()
        }
    }

    #[cfg(feature = "s3")]
    pub(super) fn s3(bucket: &str) -> Result<Arc<Storage>> {
        use zarrs_object_store::object_store::aws::AmazonS3Builder;
        let options = super::remote_options();
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(retry());
        let endpoint = options
            .s3_endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
        if let Some(endpoint) = endpoint {
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint);
        }
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            builder = builder.with_region("us-east-1");
        }
        if options.anonymous {
            builder = builder.with_skip_signature(true);
        }
        let store = builder
            .build()
            .map_err(|e| Error::Invalid(format!("s3://{bucket}: {e}")))?;
        Storage::new(Arc::new(store))
    }

    #[cfg(not(feature = "s3"))]
    pub(super) fn s3(bucket: &str) -> Result<Arc<Storage>> {
        Err(super::missing_feature(&format!("s3://{bucket}"), "s3"))
    }

    #[cfg(feature = "gcs")]
    pub(super) fn gcs(bucket: &str) -> Result<Arc<Storage>> {
        use zarrs_object_store::object_store::gcp::GoogleCloudStorageBuilder;
        let store = GoogleCloudStorageBuilder::from_env()
            .with_bucket_name(bucket)
            .with_retry(retry())
            .build()
            .map_err(|e| Error::Invalid(format!("gs://{bucket}: {e}")))?;
        Storage::new(Arc::new(store))
    }

    #[cfg(not(feature = "gcs"))]
    pub(super) fn gcs(bucket: &str) -> Result<Arc<Storage>> {
        Err(super::missing_feature(&format!("gs://{bucket}"), "gcs"))
    }

    #[cfg(feature = "azure")]
    pub(super) fn azure(container: &str) -> Result<Arc<Storage>> {
        use zarrs_object_store::object_store::azure::MicrosoftAzureBuilder;
        let store = MicrosoftAzureBuilder::from_env()
            .with_container_name(container)
            .with_retry(retry())
            .build()
            .map_err(|e| Error::Invalid(format!("az://{container}: {e}")))?;
        Storage::new(Arc::new(store))
    }

    #[cfg(not(feature = "azure"))]
    pub(super) fn azure(container: &str) -> Result<Arc<Storage>> {
        Err(super::missing_feature(
            &format!("az://{container}"),
            "azure",
        ))
    }

    impl ReadableStorageTraits for Storage {
        fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
            self.block_on.block_on(self.store.get(key))
        }

        fn get_partial_many<'a>(
            &'a self,
            key: &StoreKey,
            byte_ranges: zarrs::storage::byte_range::ByteRangeIterator<'a>,
        ) -> Result<MaybeBytesIterator<'a>, StorageError> {
            self.adapter.get_partial_many(key, byte_ranges)
        }

        fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
            self.adapter.size_key(key)
        }

        fn supports_get_partial(&self) -> bool {
            self.adapter.supports_get_partial()
        }
    }

    impl WritableStorageTraits for Storage {
        fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
            self.adapter.set(key, value)
        }

        fn set_partial_many(
            &self,
            key: &StoreKey,
            offset_values: OffsetBytesIterator,
        ) -> Result<(), StorageError> {
            self.adapter.set_partial_many(key, offset_values)
        }

        fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
            self.adapter.erase(key)
        }

        fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
            self.adapter.erase_prefix(prefix)
        }

        fn supports_set_partial(&self) -> bool {
            self.adapter.supports_set_partial()
        }
    }

    impl ListableStorageTraits for Storage {
        fn list(&self) -> Result<StoreKeys, StorageError> {
            self.adapter.list()
        }

        fn list_prefix(&self, prefix: &StorePrefix) -> Result<StoreKeys, StorageError> {
            self.adapter.list_prefix(prefix)
        }

        fn list_dir(&self, prefix: &StorePrefix) -> Result<StoreKeysPrefixes, StorageError> {
            self.adapter.list_dir(prefix)
        }

        fn size_prefix(&self, prefix: &StorePrefix) -> Result<u64, StorageError> {
            self.adapter.size_prefix(prefix)
        }
    }
}

#[cfg(not(any(feature = "s3", feature = "gcs", feature = "azure")))]
mod object {
    //! Without an object-store feature every bucket URL is refused, naming the feature.

    use std::sync::Arc;

    use chunkwise_engine::Result;

    /// Stands in for the object-store storage type; never made.
    pub(crate) type Storage = zarrs::storage::store::MemoryStore;

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
