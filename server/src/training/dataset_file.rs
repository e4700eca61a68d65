//! A data set's file on local disk while it is checked: an upload spooled as it arrives, or a
//! stored data set read back for its outline. Neither is ever whole in memory, so a 256 MiB
//! upload costs about what a small one does. The file is anonymous in the temporary folder
//! (`TMPDIR`): the system removes it when it is dropped, even after a crash.

use std::io;

use ml::dataset::{DatasetError, DatasetOutline};
use ml::LoadOptions;
use sqlx::AnyPool;
use tokio::fs::File;
use tokio::io::{AsyncRead, AsyncSeekExt, AsyncWriteExt, BufWriter};

use crate::db::datasets;

pub struct DatasetFile {
    file: BufWriter<File>,
    bytes: u64,
}

impl DatasetFile {
    pub async fn create() -> io::Result<DatasetFile> {
        let file = tokio::task::spawn_blocking(tempfile::tempfile)
            .await
            .map_err(io::Error::other)??;
        Ok(DatasetFile {
            file: BufWriter::with_capacity(datasets::PART_BYTES as usize, File::from_std(file)),
            bytes: 0,
        })
    }

    /// A stored data set's file, copied to disk a part at a time.
    pub async fn stored(pool: &AnyPool, id: i64) -> crate::error::Result<DatasetFile> {
        let mut file = DatasetFile::create().await.map_err(sqlx::Error::Io)?;
        datasets::copy_content(pool, id, &mut file.file).await?;
        Ok(file)
    }

    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes).await?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The file's outline, read off the async workers (a big file takes a while).
    pub async fn outline(
        self,
        options: LoadOptions,
    ) -> io::Result<(DatasetFile, Result<DatasetOutline, DatasetError>)> {
        let DatasetFile { mut file, bytes } = self;
        file.flush().await?;
        let file = file.into_inner().into_std().await;
        let (file, outline) = tokio::task::spawn_blocking(move || {
            let outline = DatasetOutline::read_file(&file, &options);
            (file, outline)
        })
        .await
        .map_err(io::Error::other)?;
        Ok((
            DatasetFile {
                file: BufWriter::with_capacity(datasets::PART_BYTES as usize, File::from_std(file)),
                bytes,
            },
            outline,
        ))
    }

    /// The file from its start, to store it.
    pub async fn into_reader(self) -> io::Result<impl AsyncRead + Unpin> {
        let mut file = self.file;
        file.flush().await?;
        let mut file = file.into_inner();
        file.rewind().await?;
        Ok(file)
    }
}
