//! Mail through an SMTP server (`MCPGATE_SMTP_URL`, `MCPGATE_SMTP_FROM`): invitation
//! and password-reset links. Without one configured nothing is mailed and links are
//! only shown to the admin who made them.
//!
//! Mail is sent in the background: a request never waits on (or tells by its timing
//! whether it reached) the SMTP server. A failed delivery is logged without the link.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one delivery may take, connection included.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// A parsed SMTP server and sender: if it loads, a transport can be built from it.
#[derive(Clone)]
pub struct SmtpSettings {
    /// `smtp://[user:password@]host:port` (STARTTLS with `?tls=required`) or `smtps://`.
    url: String,
    from: Mailbox,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry the SMTP password: never print it.
        formatter
            .debug_struct("SmtpSettings")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpSettings {
    /// The server's URL and the sender address (`noreply@example.com` or
    /// `mcpgate <noreply@example.com>`), each refused with the reason.
    pub fn parse(url: &str, from: &str) -> Result<Self, SmtpSettingsError> {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        if !matches!(scheme, Some("smtp" | "smtps")) {
            return Err(SmtpSettingsError::Url(
                "expected smtp://host:port or smtps://host:port".into(),
            ));
        }
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| SmtpSettingsError::Url(error.to_string()))?;
        let from = from
            .parse::<Mailbox>()
            .map_err(|error| SmtpSettingsError::From(error.to_string()))?;
        Ok(Self {
            url: url.to_owned(),
            from,
        })
    }
}

/// Why SMTP settings did not load.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSettingsError {
    #[error("not an SMTP server URL: {0}")]
    Url(String),
    #[error("not a mail address: {0}")]
    From(String),
}

/// A mail to send.
#[derive(Debug, Clone)]
pub(crate) struct Mail {
    pub(crate) to: String,
    pub(crate) subject: String,
    pub(crate) text: String,
}

/// Sends mail through the configured server; cheap to clone.
#[derive(Clone)]
pub(crate) struct Mailer {
    transport: Arc<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    pub(crate) fn new(settings: &SmtpSettings) -> Result<Self, SmtpSettingsError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|error| SmtpSettingsError::Url(error.to_string()))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        Ok(Self {
            transport: Arc::new(transport),
            from: settings.from.clone(),
        })
    }

    /// Queues `mail` for delivery in the background. `false` when the recipient is
    /// not a mail address (nothing is sent).
    pub(crate) fn send_in_background(&self, mail: Mail) -> bool {
        let message = match self.message(&mail) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "a mail could not be built; not sent");
                return false;
            }
        };
        let transport = Arc::clone(&self.transport);
        tokio::spawn(async move {
            // The message carries a secret link: log only that it failed, and why.
            if let Err(error) = transport.send(message).await {
                tracing::warn!(
                    error = %mcpgate_upstream::error_chain(&error),
                    subject = %mail.subject,
                    "a mail could not be delivered to the SMTP server"
                );
            }
        });
        true
    }

    fn message(&self, mail: &Mail) -> Result<Message, anyhow::Error> {
        let to = mail.to.trim().parse::<Mailbox>()?;
        Ok(Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_settings_refuse_other_schemes_and_bad_senders_and_hide_the_password() {
        assert!(matches!(
            SmtpSettings::parse("http://127.0.0.1:25", "a@example.com"),
            Err(SmtpSettingsError::Url(_))
        ));
        assert!(matches!(
            SmtpSettings::parse("smtp://127.0.0.1:2525", "not an address"),
            Err(SmtpSettingsError::From(_))
        ));
        let settings = SmtpSettings::parse(
            "smtp://mailer:hunter2-secret@127.0.0.1:2525",
            "mcpgate <noreply@example.com>",
        )
        .expect("a valid server and sender");
        assert!(!format!("{settings:?}").contains("hunter2-secret"));
    }
}
