//! Object stores through zarrs_object_store, used from our synchronous worker threads.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use zarrs::storage::storage_adapter::async_to_sync::{
    AsyncToSyncBlockOn, AsyncToSyncStorageAdapter,
};
use zarrs::storage::{
    AsyncReadableStorageTraits, AsyncWritableStorageTraits, Bytes, ListableStorageTraits,
    MaybeBytes, MaybeBytesIterator, OffsetBytesIterator, ReadableStorageTraits, StorageError,
    StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
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

    /// A bucket in memory, for tests of what goes through the client's threads.
    #[cfg(test)]
    pub(crate) fn in_memory() -> Arc<Self> {
        let store = zarrs_object_store::object_store::memory::InMemory::new();
        Self::new(Arc::new(store)).expect("the client's runtime starts")
    }
}

/// Starts storing each `(key, value)` of `puts` in turn on the client's own threads and
/// returns at once; `then` gets the outcome (the first failure stops the rest, so a later
/// object, such as a journal entry, is never stored without the ones before it).
pub(crate) fn set_behind(
    storage: &Storage,
    puts: Vec<(StoreKey, Bytes)>,
    then: impl FnOnce(Result<(), StorageError>) + Send + 'static,
) {
    let store = Arc::clone(&storage.store);
    storage.block_on.0.spawn(async move {
        let mut outcome = Ok(());
        for (key, value) in puts {
            outcome = store.set(&key, value).await;
            if outcome.is_err() {
                break;
            }
        }
        then(outcome);
    });
}

/// Starts reading `key` on the client's own threads and returns at once; `then` gets the value
/// (`None`: no such object).
pub(crate) fn get_behind(
    storage: &Storage,
    key: StoreKey,
    then: impl FnOnce(Result<MaybeBytes, StorageError>) + Send + 'static,
) {
    let store = Arc::clone(&storage.store);
    storage.block_on.0.spawn(async move {
        then(store.get(&key).await);
    });
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
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
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
