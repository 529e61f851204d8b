//! A real SMTP server on 127.0.0.1 for black-box tests: just enough of RFC 5321 for lettre,
//! any number of sessions, every message kept (envelope recipients and the raw data).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Clone, Debug, Default)]
pub struct Mail {
    pub recipients: Vec<String>,
    pub data: String,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub url: String,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let (listener, address) = super::listen_locally().await;
        let url = format!("smtp://{address}");
        let server = Self {
            url,
            mails: Arc::new(Mutex::new(Vec::new())),
        };
        let mails = server.mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, mails.clone()));
            }
        });
        server
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

async fn session(stream: tokio::net::TcpStream, mails: Arc<Mutex<Vec<Mail>>>) -> Option<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut mail = Mail::default();
    write.write_all(b"220 test ESMTP\r\n").await.ok()?;
    while let Some(line) = lines.next_line().await.ok()? {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-test\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("RCPT TO:") {
            mail.recipients
                .push(line[8..].trim().trim_matches(['<', '>']).to_owned());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await.ok()?;
            while let Some(data_line) = lines.next_line().await.ok()? {
                if data_line == "." {
                    break;
                }
                mail.data.push_str(&data_line);
                mail.data.push_str("\r\n");
            }
            mails
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(std::mem::take(&mut mail));
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await.ok()?;
            return Some(());
        } else {
            b"250 OK\r\n"
        };
        write.write_all(reply).await.ok()?;
    }
    Some(())
}
