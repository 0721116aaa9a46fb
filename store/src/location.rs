//! Where an array lives: a local path or a URL. Every place that takes a path (the CLI,
//! pipeline files, the Rust API) takes a URL too, so a location is parsed from the same string.

use std::path::{Path, PathBuf};

use chunkwise_engine::{Error, Result};

/// A parsed array location.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A folder on the local filesystem.
    Local(PathBuf),
    /// `s3://bucket/prefix`: AWS S3 or an S3-compatible service.
    S3 {
        /// The bucket.
        bucket: String,
        /// The array's key prefix inside the bucket (no leading or trailing `/`).
        prefix: String,
    },
    /// `gs://bucket/prefix` (Google Cloud Storage, cargo feature `gcs`).
    Gcs {
        /// The bucket.
        bucket: String,
        /// The key prefix.
        prefix: String,
    },
    /// `az://container/prefix` (Azure Blob Storage, cargo feature `azure`).
    Azure {
        /// The container.
        container: String,
        /// The key prefix.
        prefix: String,
    },
    /// `http://` or `https://`: read only.
    Http(String),
}

impl Location {
    /// Parses `path`: a string with a `scheme://` is a URL, anything else a local path.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an unknown scheme, or a bucket URL without a bucket.
    pub fn parse(path: &Path) -> Result<Self> {
        let Some(text) = path.to_str() else {
            return Ok(Location::Local(path.to_path_buf()));
        };
        let Some((scheme, rest)) = text.split_once("://") else {
            return Ok(Location::Local(path.to_path_buf()));
        };
        let bucket_and_prefix = || -> Result<(String, String)> {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(Error::Invalid(format!(
                    "{text} names no bucket; write {scheme}://BUCKET/path/to/array.zarr"
                )));
            }
            Ok((bucket.to_string(), prefix.trim_matches('/').to_string()))
        };
        match scheme.to_ascii_lowercase().as_str() {
            "s3" => {
                let (bucket, prefix) = bucket_and_prefix()?;
                Ok(Location::S3 { bucket, prefix })
            }
            "gs" => {
                let (bucket, prefix) = bucket_and_prefix()?;
                Ok(Location::Gcs { bucket, prefix })
            }
            "az" => {
                let (container, prefix) = bucket_and_prefix()?;
                Ok(Location::Azure { container, prefix })
            }
            "http" | "https" => Ok(Location::Http(text.trim_end_matches('/').to_string())),
            "file" => Ok(Location::Local(PathBuf::from(rest))),
            other => Err(Error::Invalid(format!(
                "unknown scheme \"{other}://\" in {text}; chunkwise reads local paths, s3://, \
                 gs://, az://, http:// and https://"
            ))),
        }
    }

    /// True for a folder on the local filesystem.
    pub fn is_local(&self) -> bool {
        matches!(self, Location::Local(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Location> {
        Location::parse(Path::new(s))
    }

    #[test]
    fn paths_and_urls_parse_to_their_kind() {
        assert_eq!(
            parse("a/b.zarr").unwrap(),
            Location::Local("a/b.zarr".into())
        );
        assert_eq!(
            parse("s3://bucket/some/a.zarr/").unwrap(),
            Location::S3 {
                bucket: "bucket".into(),
                prefix: "some/a.zarr".into()
            }
        );
        assert_eq!(
            parse("s3://bucket").unwrap(),
            Location::S3 {
                bucket: "bucket".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            parse("https://h:8/x.zarr/").unwrap(),
            Location::Http("https://h:8/x.zarr".into())
        );
        assert_eq!(
            parse("file:///tmp/x").unwrap(),
            Location::Local("/tmp/x".into())
        );
    }

    #[test]
    fn an_unknown_scheme_or_a_missing_bucket_is_one_clear_error() {
        let e = parse("ftp://host/a.zarr").unwrap_err().to_string();
        assert!(
            e.contains("unknown scheme \"ftp://\"") && e.contains("s3://"),
            "{e}"
        );
        let e = parse("s3:///a.zarr").unwrap_err().to_string();
        assert!(e.contains("names no bucket"), "{e}");
    }
}
