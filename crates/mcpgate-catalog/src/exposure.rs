//! Rules that read several signals together to decide whether a tool exposes
//! secrets. Annotations do not protect here: a secret-scanning tool may be
//! marked read-only and still return the secrets it found.

use mcpgate_policy::Category;

use crate::evidence::{Evidence, EvidenceKind};
use crate::signals::{Role, Signals};

/// Phrases saying the secret values are kept out of the result.
#[rustfmt::skip]
const HIDDEN_PHRASES: &[&str] = &[
    "values hidden", "values are hidden", "values are not", "without values", "names only",
    "keys only", "only key names", "only the names", "only names", "metadata only", "only metadata",
    "redacted", "masked", "not the values", "no values", "tokenized", "tokenizes", "tokenize",
];

/// Phrases saying secret values are in the result.
#[rustfmt::skip]
const REVEAL_PHRASES: &[&str] = &[
    "decoded values", "decoded value", "decoded secret", "decoded secrets", "actual values",
    "secret value", "secret values", "plaintext", "plain text", "clear text", "decrypted value",
    "decrypted values", "returns credentials", "sensitive credentials",
];

/// Phrases saying the tool returns what a secret scanner found: the secrets themselves
/// (GitHub's and Azure DevOps's Advanced Security include secret scanning).
#[rustfmt::skip]
const FOUND_SECRET_PHRASES: &[&str] = &[
    "secret alert", "secret alerts", "secret scanning", "leaked secret", "leaked secrets",
    "exposed secret", "exposed secrets", "detected secrets", "advanced security alert",
    "advanced security alerts",
];

/// Nouns for stored secret objects: writing one stores data, it does not mint a credential.
#[rustfmt::skip]
const STORED_SECRET_NOUNS: &[&str] = &[
    "secret", "secrets", "vault",
];

/// Secret kinds a read's choice of object can name (`object` enum `password`, `totp`): the
/// caller picks a secret to have returned (round 11).
const SECRET_OBJECT_KINDS: &[&str] = &[
    "password",
    "passwords",
    "totp",
    "secret",
    "secrets",
    "token",
    "tokens",
    "api_key",
    "apikey",
];

/// What a read tool may expose short of secret values; raises its risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exposure {
    /// Nothing sensitive.
    Nothing,
    /// Names or metadata of secrets, values hidden.
    SecretMetadata,
    /// Objects of a caller-chosen kind, which can include secrets.
    AnyKindListing,
    /// A caller-written query over every object type of the API (GraphQL).
    AnyQuery,
    /// Records of a caller-chosen type of the service's own schema (round 12).
    AnyRecordType,
}

/// Applies the credential rules to the scored category. When a rule decides,
/// its evidence replaces the votes, which no longer explain the result.
pub(crate) fn refine(
    signals: &Signals,
    category: Category,
    evidence: &mut Vec<Evidence>,
) -> (Category, Exposure) {
    let reveal = reveal_evidence(signals);
    if let Some(noun) = signals.credential_noun() {
        let noun_evidence = |message: String| {
            Evidence::category(EvidenceKind::NameNoun, &noun, Category::Credential, message)
        };
        match category {
            Category::Read if local_generator(signals) => {
                evidence.insert(
                    0,
                    Evidence::category(
                        EvidenceKind::Rule,
                        &noun,
                        Category::Read,
                        format!("generates a random `{noun}` from options alone: nothing stored or granted → read"),
                    ),
                );
                return (Category::Read, Exposure::Nothing);
            }
            Category::Read if reads_status_only(signals) => {
                evidence.insert(
                    0,
                    Evidence::category(
                        EvidenceKind::Rule,
                        &noun,
                        Category::Read,
                        format!("reads the `{noun}`'s status: the session or connection, not the secrets in it → read"),
                    ),
                );
                return (Category::Read, Exposure::Nothing);
            }
            Category::Read if lists_secret_containers(signals, &noun) => {
                evidence.insert(
                    0,
                    Evidence::category(
                        EvidenceKind::Rule,
                        &noun,
                        Category::Read,
                        format!("lists `{noun}`s themselves: containers, not the secrets in them → read"),
                    ),
                );
                return (Category::Read, Exposure::Nothing);
            }
            Category::Read => {
                let hidden = signals.description.first_phrase(HIDDEN_PHRASES);
                if let (Some(phrase), None) = (hidden, &reveal) {
                    let message = format!("reads `{noun}` but the description says \"{phrase}\"");
                    evidence.insert(
                        0,
                        Evidence::category(
                            EvidenceKind::DescriptionPhrase,
                            phrase,
                            Category::Read,
                            message,
                        ),
                    );
                    return (Category::Read, Exposure::SecretMetadata);
                }
                let mut decided = vec![noun_evidence(format!(
                    "reads `{noun}` and does not say the values are hidden → credential"
                ))];
                decided.extend(reveal);
                *evidence = decided;
                return (Category::Credential, Exposure::Nothing);
            }
            Category::Write if !STORED_SECRET_NOUNS.contains(&noun.as_str()) => {
                *evidence = vec![noun_evidence(format!(
                    "creates or changes a `{noun}`: the caller handles a credential → credential"
                ))];
                return (Category::Credential, Exposure::Nothing);
            }
            _ => {}
        }
    }
    if category == Category::Write {
        if let Some(property) = signals.sets_credential() {
            *evidence = vec![Evidence::category(
                EvidenceKind::Argument,
                &property,
                Category::Credential,
                format!(
                    "schema sets `{property}`: the write sets a password or secret → credential"
                ),
            )];
            return (Category::Credential, Exposure::Nothing);
        }
        if let Some(field) = signals.edited_secret_field() {
            *evidence = vec![Evidence::category(
                EvidenceKind::Argument,
                &field,
                Category::Credential,
                format!("the edit sets `{field}`, a way in → credential"),
            )];
            return (Category::Credential, Exposure::Nothing);
        }
        if let Some(phrase) = signals.mints_credential() {
            *evidence = vec![Evidence::category(
                EvidenceKind::DescriptionPhrase,
                phrase,
                Category::Credential,
                format!("creates what has a \"{phrase}\": a credential is minted → credential"),
            )];
            return (Category::Credential, Exposure::Nothing);
        }
    }
    if category != Category::Read {
        return (category, Exposure::Nothing);
    }
    if let Some(reveal) = reveal
        .filter(|e| e.kind == EvidenceKind::DescriptionPhrase || reveal_switch(signals, &e.matched))
    {
        *evidence = vec![reveal];
        return (Category::Credential, Exposure::Nothing);
    }
    if let Some(phrase) = signals.description.first_phrase(FOUND_SECRET_PHRASES) {
        let message = format!(
            "description says \"{phrase}\": a secret scanner's findings are the secrets it found → credential"
        );
        *evidence = vec![Evidence::category(
            EvidenceKind::DescriptionPhrase,
            phrase,
            Category::Credential,
            message,
        )];
        return (Category::Credential, Exposure::Nothing);
    }
    // `generate` "a secure password or passphrase" from options alone: the secret phrase is
    // what it draws on the spot, nothing stored is returned (round 11; round 10 took the same
    // generators when their name carried the credential noun).
    if local_generator(signals) {
        return (Category::Read, Exposure::Nothing);
    }
    if let Some((phrase, masked)) = signals.response_secret() {
        if masked {
            let message =
                format!("the response carries \"{phrase}\", masked: sensitive metadata → read");
            evidence.insert(
                0,
                Evidence::category(
                    EvidenceKind::DescriptionPhrase,
                    phrase,
                    Category::Read,
                    message,
                ),
            );
            return (Category::Read, Exposure::SecretMetadata);
        }
        let message = format!(
            "description says the response carries \"{phrase}\": the read returns a secret → credential"
        );
        *evidence = vec![Evidence::category(
            EvidenceKind::DescriptionPhrase,
            phrase,
            Category::Credential,
            message,
        )];
        return (Category::Credential, Exposure::Nothing);
    }
    if let Some(field) = signals.returned_secret_field() {
        let message = format!(
            "the description names `{field}` as returned: the read returns a secret → credential"
        );
        *evidence = vec![Evidence::category(
            EvidenceKind::DescriptionPhrase,
            &field,
            Category::Credential,
            message,
        )];
        return (Category::Credential, Exposure::Nothing);
    }
    if let Some((argument, value)) = signals.enum_offering(SECRET_OBJECT_KINDS) {
        let message = format!(
            "argument `{}` offers `{value}` as what to read: the read can return a secret → credential",
            argument.name
        );
        *evidence = vec![Evidence::category(
            EvidenceKind::Argument,
            &argument.name,
            Category::Credential,
            message,
        )];
        return (Category::Credential, Exposure::Nothing);
    }
    if let Some(path) = any_configuration_path(signals) {
        let message = format!(
            "argument `{path}` and \"any configuration\": reads whatever the chosen path holds, stored secrets included → credential"
        );
        *evidence = vec![Evidence::category(
            EvidenceKind::Rule,
            &path,
            Category::Credential,
            message,
        )];
        return (Category::Credential, Exposure::Nothing);
    }
    if let Some(kind) = signals.argument(Role::Kind) {
        // `describe` summarises an object (a Secret's data as byte counts), it does not dump it.
        let summarises = signals
            .name_verb()
            .is_some_and(|(_, verb)| verb == "describe");
        if signals.arguments.iter().any(|a| a.name == "name") && !summarises {
            let message = format!(
                "arguments `{}` and `name`: returns one object of any kind in full, Secrets included → credential",
                kind.name
            );
            *evidence = vec![Evidence::category(
                EvidenceKind::Rule,
                &kind.name,
                Category::Credential,
                message,
            )];
            return (Category::Credential, Exposure::Nothing);
        }
        return (Category::Read, Exposure::AnyKindListing);
    }
    if signals.graphql_query().is_some() {
        return (Category::Read, Exposure::AnyQuery);
    }
    if signals.record_type_argument().is_some() {
        return (Category::Read, Exposure::AnyRecordType);
    }
    (Category::Read, Exposure::Nothing)
}

/// A read of any path of a device's configuration tree ("Read any RouterOS configuration
/// path", a free-string `path`): the caller picks which part of the configuration comes back,
/// and the parts holding tunnel secrets, user passwords or private keys are paths like any
/// other, so the read can return a secret, read-only or not (round 12).
fn any_configuration_path(signals: &Signals) -> Option<String> {
    let any_configuration = signals.lead.has_phrase("any configuration")
        || signals.lead.has_phrase("any config")
        || (signals.lead.has_phrase("any") && signals.lead.has_phrase("configuration path"));
    if !any_configuration {
        return None;
    }
    signals
        .arguments
        .iter()
        .find(|a| {
            a.typed("string")
                && a.schema().get("enum").is_none()
                && crate::text::identifier_tokens(&a.name)
                    .last()
                    .is_some_and(|t| t == "path")
        })
        .map(|a| a.name.clone())
}

/// A listing of vaults themselves (`vault_list`, `list_vaults`): the name's only object is the
/// container noun and the verb lists, so what comes back is the containers' names and ids,
/// not the secrets kept in them (round 11).
fn lists_secret_containers(signals: &Signals, noun: &str) -> bool {
    let lists = signals.name_verb().is_some_and(|(_, verb)| verb == "list");
    let only_container = signals
        .name_objects()
        .iter()
        .all(|t| t == "vault" || t == "vaults");
    lists && noun == "vault" && only_container
}

/// A status check of a secret store (`vault_status`, `secrets_health`): the name ends in
/// `status` or `health` and the tool takes no argument, so what comes back is the session's or
/// the connection's state (a token's validity, the identity, the time left), not a stored
/// secret (round 13).
fn reads_status_only(signals: &Signals) -> bool {
    let status = signals
        .name_tokens
        .last()
        .is_some_and(|t| t == "status" || t == "health");
    status && signals.arguments.is_empty()
}

/// A generator of random values worked out on the spot (`password_generate` with a length
/// and character switches): a `generate` verb, a description saying "random" (or, since
/// round 11, "secure"), and only number, boolean or few-character string options, so no
/// account, vault or service is named to store or grant it (round 10).
fn local_generator(signals: &Signals) -> bool {
    let generates = signals
        .name_verb()
        .is_some_and(|(_, verb)| verb == "generate");
    // A string of at most a few characters, or a passphrase's `separator`, is an option too,
    // not an account or a vault (round 11).
    let short_string = |a: &crate::signals::Argument| {
        let few = a
            .schema()
            .get("maxLength")
            .and_then(serde_json::Value::as_u64)
            .is_some_and(|max| max <= 5);
        a.typed("string") && (few || ["separator", "delimiter"].contains(&a.name.as_str()))
    };
    let options_only = !signals.arguments.is_empty()
        && signals.arguments.iter().all(|a| {
            ["integer", "number", "boolean"]
                .into_iter()
                .any(|kind| a.typed(kind))
                || short_string(a)
        });
    // "Generate a secure password": secure says how it is drawn, as random does (round 11).
    let drawn = ["random", "secure"]
        .into_iter()
        .any(|word| signals.description.has_phrase(word));
    generates && options_only && drawn
}

/// A boolean argument that shows masked values (`reveal`, `reveal_env`): a read that can
/// return the secrets it otherwise hides is a credential read (round 10), whatever it names.
fn reveal_switch(signals: &Signals, name: &str) -> bool {
    signals
        .arguments
        .iter()
        .any(|a| a.name == name && a.typed("boolean"))
}

fn reveal_evidence(signals: &Signals) -> Option<Evidence> {
    if let Some(argument) = signals.argument(Role::Reveal) {
        let message = format!(
            "argument `{}` reveals secret values → credential",
            argument.name
        );
        return Some(Evidence::category(
            EvidenceKind::Argument,
            &argument.name,
            Category::Credential,
            message,
        ));
    }
    // "Text files are returned as plain text" names a format, not a secret shown (round 5).
    // "Secret values never sent to the AI", "the AI never sees plaintext": a phrase every
    // occurrence of which is denied says the values are kept out (round 13).
    let phrase = REVEAL_PHRASES.iter().copied().find(|p| {
        signals.description.has_affirmed_phrase(p)
            && !(*p == "plain text"
                && (signals.description.has_phrase("as plain text")
                    || signals.description.has_phrase("for plain text")))
    })?;
    let message = format!("description says \"{phrase}\" → credential");
    Some(Evidence::category(
        EvidenceKind::DescriptionPhrase,
        phrase,
        Category::Credential,
        message,
    ))
}
