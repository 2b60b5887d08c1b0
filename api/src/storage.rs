//! Object storage over any S3-compatible store (SeaweedFS in dev and tests): the bucket,
//! uploads, downloads and presigned URLs. The only module that knows the AWS SDK.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_smithy_http_client::tls;
use bytes::Bytes;

use ajet_shared::config::Config;

#[derive(Debug, thiserror::Error)]
#[error("object storage: {0}")]
pub struct StorageError(String);

fn storage_error(err: impl std::error::Error) -> StorageError {
    // The SDK's Display is terse; its Debug carries the service's answer.
    StorageError(format!("{err:?}"))
}

/// The attachment store. `public` signs URLs for the endpoint browsers reach, which may
/// differ from the one the api uses (a presigned URL is bound to its host).
#[derive(Clone, Debug)]
pub struct Storage {
    client: Client,
    public: Client,
    bucket: String,
}

fn client(config: &Config, endpoint: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    let credentials = Credentials::new(&config.s3_access_key, config.s3_secret_key.expose(), None, None, "ajet-config");
    let s3_config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(config.s3_region.clone()))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .force_path_style(true)
        // Non-AWS stores do not all speak the newer default checksums.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .http_client(http)
        .build();
    Client::from_conf(s3_config)
}

impl Storage {
    #[must_use]
    pub fn new(config: &Config) -> Self {
        let public_endpoint = config.s3_public_endpoint.as_deref().unwrap_or(&config.s3_endpoint);
        Self {
            client: client(config, &config.s3_endpoint),
            public: client(config, public_endpoint),
            bucket: config.s3_bucket.clone(),
        }
    }

    #[must_use]
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Creates the bucket unless it exists.
    pub async fn ensure_bucket(&self) -> Result<(), StorageError> {
        if self.client.head_bucket().bucket(&self.bucket).send().await.is_ok() {
            return Ok(());
        }
        match self.client.create_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                // Another instance may have created it in between.
                if self.client.head_bucket().bucket(&self.bucket).send().await.is_ok() {
                    Ok(())
                } else {
                    Err(storage_error(err))
                }
            }
        }
    }

    /// True when the store answers for our bucket.
    pub async fn is_ready(&self) -> bool {
        self.client.head_bucket().bucket(&self.bucket).send().await.is_ok()
    }

    pub async fn put(&self, key: &str, content_type: &str, body: Bytes) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    /// The object at `key`, or `None` if there is none (a sweep or a removal may delete it
    /// between a reader's check of its row and this read).
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        let Some(object) = self.get_object(key).await? else { return Ok(None) };
        let data = object.body.collect().await.map_err(storage_error)?;
        Ok(Some(data.into_bytes()))
    }

    async fn get_object(
        &self,
        key: &str,
    ) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, StorageError> {
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(object) => Ok(Some(object)),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key) =>
            {
                Ok(None)
            }
            Err(err) => Err(storage_error(err)),
        }
    }

    /// Deletes the objects `keys`, one request each (`DeleteObjects` needs checksums not
    /// every S3-compatible store takes); deleting a missing key is not an error.
    pub async fn delete(&self, keys: &[String]) -> Result<(), StorageError> {
        for key in keys {
            self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(storage_error)?;
        }
        Ok(())
    }

    /// True when `key` exists.
    pub async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(aws_sdk_s3::operation::head_object::HeadObjectError::is_not_found) =>
            {
                Ok(false)
            }
            Err(err) => Err(storage_error(err)),
        }
    }

    /// Starts a multipart upload of `key`; answers its upload id.
    pub async fn start_upload(&self, key: &str, content_type: &str) -> Result<String, StorageError> {
        let started = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(storage_error)?;
        started.upload_id.ok_or_else(|| StorageError("the store gave no upload id".into()))
    }

    /// Uploads part `number` (from 1; every part but the last at least 5 MiB).
    pub async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        body: Bytes,
    ) -> Result<CompletedPart, StorageError> {
        let part = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(storage_error)?;
        Ok(CompletedPart::builder().set_e_tag(part.e_tag).part_number(number).build())
    }

    pub async fn complete_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<CompletedPart>,
    ) -> Result<(), StorageError> {
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    /// Abandons a multipart upload and its parts.
    pub async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), StorageError> {
        self.client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    /// The object's bytes as a stream, read as the caller reads them, or `None` if there is
    /// no object at `key`.
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> Result<Option<impl futures::Stream<Item = std::io::Result<Bytes>> + Send + 'static>, StorageError> {
        let Some(object) = self.get_object(key).await? else { return Ok(None) };
        Ok(Some(tokio_util::io::ReaderStream::new(object.body.into_async_read())))
    }

    /// A URL that lets its holder download `key` for `valid_for`, served as an attachment
    /// named `filename` (never rendered inline by the browser).
    pub async fn presigned_get(&self, key: &str, filename: &str, valid_for: Duration) -> Result<String, StorageError> {
        let presigning = PresigningConfig::expires_in(valid_for).map_err(storage_error)?;
        let disposition = format!("attachment; filename=\"{}\"", filename.replace(['"', '\\', '\r', '\n'], "_"));
        let request = self
            .public
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(disposition)
            .presigned(presigning)
            .await
            .map_err(storage_error)?;
        Ok(request.uri().to_owned())
    }
}
