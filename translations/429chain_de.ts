<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>ApiKeysPanel</name>
    <message>
        <source>API keys</source>
        <translation>API-Schlüssel</translation>
    </message>
    <message>
        <source>Clients send one of these as their Bearer token. Keys are stored in the config file; the list shows them masked.</source>
        <translation>Clients senden einen davon als Bearer-Token. Die Schlüssel stehen in der Konfigurationsdatei; die Liste zeigt sie maskiert.</translation>
    </message>
    <message>
        <source>The new API key</source>
        <translation>Der neue API-Schlüssel</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Kopieren</translation>
    </message>
    <message>
        <source>Copy the new API key</source>
        <translation>Den neuen API-Schlüssel kopieren</translation>
    </message>
    <message>
        <source>The new key is on the clipboard.</source>
        <translation>Der neue Schlüssel ist in der Zwischenablage.</translation>
    </message>
    <message>
        <source>New key added. Copy it now: it is shown here only once.</source>
        <translation>Neuer Schlüssel hinzugefügt. Kopieren Sie ihn jetzt: Er wird hier nur einmal angezeigt.</translation>
    </message>
    <message>
        <source>API keys, masked</source>
        <translation>API-Schlüssel, maskiert</translation>
    </message>
    <message>
        <source>&amp;Generate key</source>
        <translation>Schlüssel &amp;erzeugen</translation>
    </message>
    <message>
        <source>&amp;Copy key</source>
        <translation>Schlüssel &amp;kopieren</translation>
    </message>
    <message>
        <source>Copy the selected API key</source>
        <translation>Den gewählten API-Schlüssel kopieren</translation>
    </message>
    <message>
        <source>&amp;Revoke…</source>
        <translation>Wide&amp;rrufen …</translation>
    </message>
    <message>
        <source>Revoke the selected API key</source>
        <translation>Den gewählten API-Schlüssel widerrufen</translation>
    </message>
    <message>
        <source>Admin keys</source>
        <translation>Admin-Schlüssel</translation>
    </message>
    <message>
        <source>Only these keys open the admin API (settings.adminKeys); edit them in the config file.</source>
        <translation>Nur diese Schlüssel öffnen die Admin-API (settings.adminKeys); bearbeiten Sie sie in der Konfigurationsdatei.</translation>
    </message>
    <message>
        <source>Admin keys, masked</source>
        <translation>Admin-Schlüssel, maskiert</translation>
    </message>
    <message>
        <source>Copy admin key</source>
        <translation>Admin-Schlüssel kopieren</translation>
    </message>
    <message>
        <source>Admin key %1 is on the clipboard.</source>
        <translation>Admin-Schlüssel %1 ist in der Zwischenablage.</translation>
    </message>
    <message>
        <source>Key %1:  %2</source>
        <translation>Schlüssel %1:  %2</translation>
    </message>
    <message>
        <source>Admin key %1:  %2</source>
        <translation>Admin-Schlüssel %1:  %2</translation>
    </message>
    <message>
        <source>Key %1 added.</source>
        <translation>Schlüssel %1 hinzugefügt.</translation>
    </message>
    <message>
        <source>Key %1 is on the clipboard.</source>
        <translation>Schlüssel %1 ist in der Zwischenablage.</translation>
    </message>
    <message>
        <source>Revoke key</source>
        <translation>Schlüssel widerrufen</translation>
    </message>
    <message>
        <source>Revoke key %1 (%2)?</source>
        <translation>Schlüssel %1 (%2) widerrufen?</translation>
    </message>
    <message>
        <source>Every client using this key gets 401 from now on.</source>
        <translation>Jeder Client mit diesem Schlüssel erhält ab jetzt 401.</translation>
    </message>
    <message>
        <source>Revoke</source>
        <translation>Widerrufen</translation>
    </message>
    <message>
        <source>Key %1 revoked.</source>
        <translation>Schlüssel %1 widerrufen.</translation>
    </message>
</context>
<context>
    <name>AttemptTable</name>
    <message>
        <source>Attempts</source>
        <translation>Versuche</translation>
    </message>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Entry</source>
        <translation>Eintrag</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>Ergebnis</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Latency</source>
        <translation>Latenz</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Grund</translation>
    </message>
</context>
<context>
    <name>Autostart</name>
    <message>
        <source>OpenAI-compatible proxy over free-tier providers</source>
        <translation>OpenAI-kompatibler Proxy über kostenlose Anbieter-Kontingente</translation>
    </message>
    <message>
        <source>Cannot remove %1.</source>
        <translation>%1 kann nicht entfernt werden.</translation>
    </message>
    <message>
        <source>Cannot create the folder %1.</source>
        <translation>Der Ordner %1 kann nicht angelegt werden.</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
</context>
<context>
    <name>ChainEntriesModel</name>
    <message>
        <source>Tried %1 of %2</source>
        <translation>Versucht als %1 von %2</translation>
    </message>
    <message>
        <source>%1. %2 / %3</source>
        <translation>%1. %2 / %3</translation>
    </message>
    <message>
        <source>#</source>
        <translation>Nr.</translation>
    </message>
    <message>
        <source>Provider</source>
        <translation>Anbieter</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
</context>
<context>
    <name>ChainTester</name>
    <message>
        <source>Provider %1 is not configured</source>
        <translation>Anbieter %1 ist nicht konfiguriert</translation>
    </message>
    <message>
        <source>Provider %1 failed for model %2: %3</source>
        <translation>Anbieter %1 ist bei Modell %2 gescheitert: %3</translation>
    </message>
    <message>
        <source>Provider %1 returned %2 for model %3: %4</source>
        <translation>Anbieter %1 hat für Modell %3 %2 geantwortet: %4</translation>
    </message>
    <message>
        <source>Provider %1 answered model %2 with something that is not JSON</source>
        <translation>Anbieter %1 hat für Modell %2 etwas geantwortet, das kein JSON ist</translation>
    </message>
</context>
<context>
    <name>ChainsPage</name>
    <message>
        <source>A chain is the list of provider + model entries 429chain tries in order until one answers. Clients choose a chain by sending its name as the model.</source>
        <translation>Eine Kette ist die Liste von Einträgen (Anbieter + Modell), die 429chain der Reihe nach versucht, bis einer antwortet. Clients wählen eine Kette, indem sie ihren Namen als Modell senden.</translation>
    </message>
    <message>
        <source>Chains</source>
        <translation>Ketten</translation>
    </message>
    <message>
        <source>&amp;New chain…</source>
        <translation>&amp;Neue Kette …</translation>
    </message>
    <message>
        <source>Rename the selected chain (F2)</source>
        <translation>Die gewählte Kette umbenennen (F2)</translation>
    </message>
    <message>
        <source>Make de&amp;fault</source>
        <translation>Zum &amp;Standard machen</translation>
    </message>
    <message>
        <source>Use this chain for requests whose model is not a chain name</source>
        <translation>Diese Kette für Anfragen verwenden, deren Modell kein Kettenname ist</translation>
    </message>
    <message>
        <source>Delete c&amp;hain</source>
        <translation>Kette l&amp;öschen</translation>
    </message>
    <message>
        <source>Delete the selected chain (Delete)</source>
        <translation>Die gewählte Kette löschen (Entf)</translation>
    </message>
    <message>
        <source>Entries of the chain, in the order they are tried</source>
        <translation>Einträge der Kette in der Reihenfolge, in der sie versucht werden</translation>
    </message>
    <message>
        <source>Moved %1 / %2 to position %3 of %4.</source>
        <translation>%1 / %2 auf Position %3 von %4 verschoben.</translation>
    </message>
    <message>
        <source>Move &amp;up</source>
        <translation>Nach &amp;oben</translation>
    </message>
    <message>
        <source>Try the selected entry earlier (Ctrl+Up)</source>
        <translation>Den gewählten Eintrag früher versuchen (Strg+Hoch)</translation>
    </message>
    <message>
        <source>Move do&amp;wn</source>
        <translation>Nach &amp;unten</translation>
    </message>
    <message>
        <source>Try the selected entry later (Ctrl+Down)</source>
        <translation>Den gewählten Eintrag später versuchen (Strg+Runter)</translation>
    </message>
    <message>
        <source>&amp;Remove entry</source>
        <translation>Eintrag &amp;entfernen</translation>
    </message>
    <message>
        <source>Remove the selected entry from the chain (Delete)</source>
        <translation>Den gewählten Eintrag aus der Kette entfernen (Entf)</translation>
    </message>
    <message>
        <source>Add an entry</source>
        <translation>Eintrag hinzufügen</translation>
    </message>
    <message>
        <source>&amp;Add entry</source>
        <translation>Eintrag &amp;hinzufügen</translation>
    </message>
    <message>
        <source>Add the entry at the end of the chain</source>
        <translation>Den Eintrag am Ende der Kette hinzufügen</translation>
    </message>
    <message>
        <source>%1 — default</source>
        <translation>%1 — Standard</translation>
    </message>
    <message>
        <source>No chain selected</source>
        <translation>Keine Kette gewählt</translation>
    </message>
    <message>
        <source>No chains yet. Create one with New chain…</source>
        <translation>Noch keine Ketten. Legen Sie eine mit „Neue Kette …“ an.</translation>
    </message>
    <message>
        <source>Select a chain to see its entries.</source>
        <translation>Wählen Sie eine Kette, um ihre Einträge zu sehen.</translation>
    </message>
    <message>
        <source>%1 (default chain)</source>
        <translation>%1 (Standardkette)</translation>
    </message>
    <message>
        <source>Entries are tried from the top. Requests for &quot;%1&quot; and for any model that is not a chain name use this chain. Drag rows or use Ctrl+Up / Ctrl+Down to reorder.</source>
        <translation>Einträge werden von oben nach unten versucht. Anfragen für „%1“ und für jedes Modell, das kein Kettenname ist, verwenden diese Kette. Zum Umsortieren Zeilen ziehen oder Strg+Hoch / Strg+Runter verwenden.</translation>
    </message>
    <message>
        <source>Entries are tried from the top. Requests for the model &quot;%1&quot; use this chain. Drag rows or use Ctrl+Up / Ctrl+Down to reorder.</source>
        <translation>Einträge werden von oben nach unten versucht. Anfragen für das Modell „%1“ verwenden diese Kette. Zum Umsortieren Zeilen ziehen oder Strg+Hoch / Strg+Runter verwenden.</translation>
    </message>
    <message>
        <source>%1 not saved: %2</source>
        <translation>%1 nicht gespeichert: %2</translation>
    </message>
    <message>
        <source>Removed %1 / %2 from %3.</source>
        <translation>%1 / %2 aus %3 entfernt.</translation>
    </message>
    <message>
        <source>Type or pick a model for the new entry.</source>
        <translation>Geben Sie ein Modell für den neuen Eintrag ein oder wählen Sie eines.</translation>
    </message>
    <message>
        <source>%1 / %2 is in %3 already.</source>
        <translation>%1 / %2 ist bereits in %3.</translation>
    </message>
    <message>
        <source>Added %1 / %2 to %3.</source>
        <translation>%1 / %2 zu %3 hinzugefügt.</translation>
    </message>
    <message>
        <source>Rename chain</source>
        <translation>Kette umbenennen</translation>
    </message>
    <message>
        <source>New name for %1 (clients that send the old name as the model get the default chain instead):</source>
        <translation>Neuer Name für %1 (Clients, die den alten Namen als Modell senden, erhalten stattdessen die Standardkette):</translation>
    </message>
    <message>
        <source>%1 not renamed: %2</source>
        <translation>%1 nicht umbenannt: %2</translation>
    </message>
    <message>
        <source>%1 is now the default chain.</source>
        <translation>%1 ist jetzt die Standardkette.</translation>
    </message>
    <message>
        <source>Delete chain</source>
        <translation>Kette löschen</translation>
    </message>
    <message>
        <source>Delete the chain &quot;%1&quot;?</source>
        <translation>Die Kette „%1“ löschen?</translation>
    </message>
    <message>
        <source>Clients that send &quot;%1&quot; as the model get the default chain instead.</source>
        <translation>Clients, die „%1“ als Modell senden, erhalten stattdessen die Standardkette.</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Löschen</translation>
    </message>
    <message>
        <source>%1 not deleted: %2</source>
        <translation>%1 nicht gelöscht: %2</translation>
    </message>
    <message>
        <source>R&amp;ename…</source>
        <translation>Um&amp;benennen …</translation>
    </message>
    <message>
        <source>Entries: %1; the default chain</source>
        <translation>Einträge: %1; die Standardkette</translation>
    </message>
    <message>
        <source>Entries: %1</source>
        <translation>Einträge: %1</translation>
    </message>
</context>
<context>
    <name>ConfigJson</name>
    <message>
        <source>Unknown key(s): %1</source>
        <translation>Unbekannte Schlüssel: %1</translation>
    </message>
    <message>
        <source>%1 must be a string</source>
        <translation>%1 muss ein String sein</translation>
    </message>
    <message>
        <source>%1 must be true or false</source>
        <translation>%1 muss true oder false sein</translation>
    </message>
    <message>
        <source>%1 must be an integer</source>
        <translation>%1 muss eine ganze Zahl sein</translation>
    </message>
    <message>
        <source>%1 must be a list of strings</source>
        <translation>%1 muss eine Liste von Strings sein</translation>
    </message>
    <message>
        <source>%1 is masked but there is no stored key at that index</source>
        <translation>%1 ist maskiert, aber an dieser Stelle ist kein Schlüssel gespeichert</translation>
    </message>
    <message>
        <source>%1 must be an object</source>
        <translation>%1 muss ein Objekt sein</translation>
    </message>
    <message>
        <source>%1 must be &quot;model&quot; or &quot;provider&quot;</source>
        <translation>%1 muss „model“ oder „provider“ sein</translation>
    </message>
    <message>
        <source>%1 is masked but the provider has no such stored header</source>
        <translation>%1 ist maskiert, aber der Anbieter hat keinen solchen gespeicherten Header</translation>
    </message>
    <message>
        <source>%1 is required (a non-empty string)</source>
        <translation>%1 ist erforderlich (ein nicht leerer String)</translation>
    </message>
    <message>
        <source>Chain name in path must match name in body</source>
        <translation>Der Kettenname im Pfad muss dem Namen im Body entsprechen</translation>
    </message>
    <message>
        <source>entries must be a list of at least one {provider, model}</source>
        <translation>entries muss eine Liste mit mindestens einem {provider, model} sein</translation>
    </message>
    <message>
        <source>%1 must be an object {provider, model}</source>
        <translation>%1 muss ein Objekt {provider, model} sein</translation>
    </message>
</context>
<context>
    <name>ConfigKeys</name>
    <message>
        <source>Port</source>
        <translation>Port</translation>
    </message>
    <message>
        <source>Listen port (env PORT and --port override it)</source>
        <translation>Port, auf dem gelauscht wird (PORT und --port haben Vorrang)</translation>
    </message>
    <message>
        <source>Bind address</source>
        <translation>Bind-Adresse</translation>
    </message>
    <message>
        <source>Bind address (env HOST, --host): 127.0.0.1 keeps it on this computer, 0.0.0.0 or :: opens it to the network</source>
        <translation>Bind-Adresse (HOST, --host): 127.0.0.1 hält den Proxy auf diesem Computer, 0.0.0.0 oder :: öffnet ihn für das Netzwerk</translation>
    </message>
    <message>
        <source>API keys</source>
        <translation>API-Schlüssel</translation>
    </message>
    <message>
        <source>Keys clients send as &quot;Authorization: Bearer &lt;key&gt;&quot;</source>
        <translation>Schlüssel, die Clients als „Authorization: Bearer &lt;Schlüssel&gt;“ senden</translation>
    </message>
    <message>
        <source>Admin keys</source>
        <translation>Admin-Schlüssel</translation>
    </message>
    <message>
        <source>If set, only these keys open the admin API (otherwise any API key does)</source>
        <translation>Wenn gesetzt, öffnen nur diese Schlüssel die Admin-API (sonst jeder API-Schlüssel)</translation>
    </message>
    <message>
        <source>Default chain</source>
        <translation>Standardkette</translation>
    </message>
    <message>
        <source>Chain used when a request&apos;s model is not a chain name</source>
        <translation>Kette für Anfragen, deren Modell kein Kettenname ist</translation>
    </message>
    <message>
        <source>Log level</source>
        <translation>Log-Stufe</translation>
    </message>
    <message>
        <source>trace, debug, info, warn, error or fatal (env LOG_LEVEL overrides it)</source>
        <translation>trace, debug, info, warn, error oder fatal (LOG_LEVEL hat Vorrang)</translation>
    </message>
    <message>
        <source>Default cooldown (ms)</source>
        <translation>Standard-Pause (ms)</translation>
    </message>
    <message>
        <source>Cooldown after a 429 that does not say how long to wait (ms)</source>
        <translation>Pause nach einem 429, das nicht sagt, wie lange zu warten ist (ms)</translation>
    </message>
    <message>
        <source>Request timeout (ms)</source>
        <translation>Anfrage-Zeitlimit (ms)</translation>
    </message>
    <message>
        <source>Upstream timeout per attempt (ms); a provider&apos;s timeout overrides it</source>
        <translation>Zeitlimit je Versuch beim Anbieter (ms); das timeout eines Anbieters hat Vorrang</translation>
    </message>
    <message>
        <source>Stream idle timeout (ms)</source>
        <translation>Zeitlimit für stille Streams (ms)</translation>
    </message>
    <message>
        <source>Longest silence between streamed chunks before the stream counts as failed (ms)</source>
        <translation>Längste Stille zwischen Stream-Teilen, bevor der Stream als gescheitert gilt (ms)</translation>
    </message>
    <message>
        <source>Request log database</source>
        <translation>Datenbank des Anfrageprotokolls</translation>
    </message>
    <message>
        <source>SQLite file of the request log and the usage statistics</source>
        <translation>SQLite-Datei des Anfrageprotokolls und der Nutzungsstatistik</translation>
    </message>
    <message>
        <source>Normalize responses</source>
        <translation>Antworten vereinheitlichen</translation>
    </message>
    <message>
        <source>Move reasoning_content into an empty content (reasoning models such as DeepSeek R1)</source>
        <translation>reasoning_content in einen leeren content verschieben (Reasoning-Modelle wie DeepSeek R1)</translation>
    </message>
    <message>
        <source>Failures before a cooldown</source>
        <translation>Abbrüche vor einer Pause</translation>
    </message>
    <message>
        <source>Consecutive mid-stream failures before an entry is cooled down</source>
        <translation>Aufeinanderfolgende Stream-Abbrüche, bevor ein Eintrag pausiert wird</translation>
    </message>
    <message>
        <source>First cooldown (ms)</source>
        <translation>Erste Pause (ms)</translation>
    </message>
    <message>
        <source>First mid-stream cooldown (ms); doubles on each repeat</source>
        <translation>Erste Pause nach Stream-Abbrüchen (ms); verdoppelt sich bei jeder Wiederholung</translation>
    </message>
    <message>
        <source>Longest cooldown (ms)</source>
        <translation>Längste Pause (ms)</translation>
    </message>
    <message>
        <source>Upper bound of the mid-stream cooldown (ms)</source>
        <translation>Obergrenze der Pause nach Stream-Abbrüchen (ms)</translation>
    </message>
    <message>
        <source>Queue requests when a chain is exhausted</source>
        <translation>Anfragen einreihen, wenn eine Kette erschöpft ist</translation>
    </message>
    <message>
        <source>Hold requests while a whole chain is exhausted instead of answering 429</source>
        <translation>Anfragen zurückhalten, solange eine ganze Kette erschöpft ist, statt 429 zu antworten</translation>
    </message>
    <message>
        <source>Longest wait (ms)</source>
        <translation>Längste Wartezeit (ms)</translation>
    </message>
    <message>
        <source>Longest a queued request waits (ms)</source>
        <translation>So lange wartet eine eingereihte Anfrage höchstens (ms)</translation>
    </message>
    <message>
        <source>Queue size per chain</source>
        <translation>Warteschlangengröße pro Kette</translation>
    </message>
    <message>
        <source>Queued requests per chain</source>
        <translation>Eingereihte Anfragen pro Kette</translation>
    </message>
    <message>
        <source>CORS origins (one per line)</source>
        <translation>CORS-Origins (einer pro Zeile)</translation>
    </message>
    <message>
        <source>Browser origins allowed to call the API (&quot;*&quot; or http(s) origins; none by default)</source>
        <translation>Browser-Origins, die die API aufrufen dürfen („*“ oder http(s)-Origins; standardmäßig keine)</translation>
    </message>
    <message>
        <source>Extra host names (one per line)</source>
        <translation>Weitere Hostnamen (einer pro Zeile)</translation>
    </message>
    <message>
        <source>Host names it answers to besides IP addresses and localhost (DNS-rebinding defence): &quot;.example.com&quot; covers subdomains, &quot;*&quot; turns the check off</source>
        <translation>Hostnamen, auf die der Proxy außer IP-Adressen und localhost antwortet (Schutz vor DNS-Rebinding): „.example.com“ umfasst Subdomains, „*“ schaltet die Prüfung ab</translation>
    </message>
    <message>
        <source>Largest request body (bytes)</source>
        <translation>Größter Anfrage-Body (Bytes)</translation>
    </message>
    <message>
        <source>Largest accepted request body (bytes)</source>
        <translation>Größter angenommener Anfrage-Body (Bytes)</translation>
    </message>
    <message>
        <source>Keep the request log (days)</source>
        <translation>Anfrageprotokoll aufbewahren (Tage)</translation>
    </message>
    <message>
        <source>Request log entries older than this are pruned (days)</source>
        <translation>Ältere Einträge des Anfrageprotokolls werden gelöscht (Tage)</translation>
    </message>
    <message>
        <source>Model aliases</source>
        <translation>Modell-Aliasse</translation>
    </message>
    <message>
        <source>Model name patterns (case-insensitive globs) and the chain each selects, in order; the first match wins</source>
        <translation>Muster für Modellnamen (Globs, ohne Groß-/Kleinschreibung) und die Kette, die jedes wählt, in dieser Reihenfolge; der erste Treffer gilt</translation>
    </message>
    <message>
        <source>Continue a broken stream</source>
        <translation>Abgebrochenen Stream fortsetzen</translation>
    </message>
    <message>
        <source>A stream that breaks after its first token is continued by the next entry as one answer; false ends it with an error event (a chain&apos;s own midStreamContinue wins)</source>
        <translation>Ein Stream, der nach seinem ersten Token abbricht, wird vom nächsten Eintrag als eine Antwort fortgesetzt; false beendet ihn mit einem Fehlerereignis (das midStreamContinue einer Kette hat Vorrang)</translation>
    </message>
    <message>
        <source>Shared storage</source>
        <translation>Gemeinsamer Speicher</translation>
    </message>
    <message>
        <source>&quot;sqlite&quot; (the dbPath file) or postgresql://user:password@host:port/db for several replicas on one database (DATABASE_URL overrides)</source>
        <translation>„sqlite“ (die Datei dbPath) oder postgresql://benutzer:passwort@host:port/db für mehrere Repliken auf einer Datenbank (DATABASE_URL hat Vorrang)</translation>
    </message>
    <message>
        <source>Replica name</source>
        <translation>Name der Replik</translation>
    </message>
    <message>
        <source>This replica&apos;s name in each request row; empty: host name and port (CHAIN_REPLICA_NAME overrides)</source>
        <translation>Der Name dieser Replik in jeder Anfragezeile; leer: Hostname und Port (CHAIN_REPLICA_NAME hat Vorrang)</translation>
    </message>
</context>
<context>
    <name>ConfigLoader</name>
    <message>
        <source>Config file not found: %1
  Create one with: 429chain --init
  Or give its path: 429chain --config /path/to/config.yaml</source>
        <translation>Konfigurationsdatei nicht gefunden: %1
  Anlegen mit: 429chain --init
  Oder ihren Pfad angeben: 429chain --config /pfad/zur/config.yaml</translation>
    </message>
    <message>
        <source>Cannot read config file %1: %2</source>
        <translation>Konfigurationsdatei %1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>it is a directory</source>
        <translation>es ist ein Verzeichnis</translation>
    </message>
</context>
<context>
    <name>ConfigPaths</name>
    <message>
        <source>PORT: &quot;%1&quot; is not a port number (0-65535)</source>
        <translation>PORT: „%1“ ist keine Portnummer (0–65535)</translation>
    </message>
    <message>
        <source>HOST: &quot;%1&quot; is not an IP address or &quot;localhost&quot;</source>
        <translation>HOST: „%1“ ist weder eine IP-Adresse noch „localhost“</translation>
    </message>
    <message>
        <source>--port: %1 is not a port number (0-65535)</source>
        <translation>--port: %1 ist keine Portnummer (0–65535)</translation>
    </message>
    <message>
        <source>--host: &quot;%1&quot; is not an IP address or &quot;localhost&quot;</source>
        <translation>--host: „%1“ ist weder eine IP-Adresse noch „localhost“</translation>
    </message>
    <message>
        <source>refusing to listen on %1 without settings.apiKeys: anyone on the network could use your providers; add a key or bind 127.0.0.1</source>
        <translation>Lauschen auf %1 ohne settings.apiKeys abgelehnt: jeder im Netzwerk könnte Ihre Anbieter nutzen; fügen Sie einen Schlüssel hinzu oder binden Sie an 127.0.0.1</translation>
    </message>
</context>
<context>
    <name>ConfigValidator</name>
    <message>
        <source>must be at least %1 (got %2)</source>
        <translation>muss mindestens %1 sein (ist %2)</translation>
    </message>
    <message>
        <source>must be between %1 and %2 (got %3)</source>
        <translation>muss zwischen %1 und %2 liegen (ist %3)</translation>
    </message>
    <message>
        <source>must not be empty</source>
        <translation>darf nicht leer sein</translation>
    </message>
    <message>
        <source>%1 is not an IP address or &quot;localhost&quot;</source>
        <translation>%1 ist weder eine IP-Adresse noch „localhost“</translation>
    </message>
    <message>
        <source>at least one API key is required</source>
        <translation>mindestens ein API-Schlüssel ist erforderlich</translation>
    </message>
    <message>
        <source>is required (the name of a chain)</source>
        <translation>ist erforderlich (der Name einer Kette)</translation>
    </message>
    <message>
        <source>%1 is not the name of a chain</source>
        <translation>%1 ist nicht der Name einer Kette</translation>
    </message>
    <message>
        <source>%1 is not one of %2</source>
        <translation>%1 ist keiner von %2</translation>
    </message>
    <message>
        <source>%1 is neither &quot;*&quot; nor an http(s) origin</source>
        <translation>%1 ist weder „*“ noch ein http(s)-Origin</translation>
    </message>
    <message>
        <source>%1 is not a host name (&quot;api.example.com&quot;, &quot;.example.com&quot; for its subdomains too), an IP address or &quot;*&quot;</source>
        <translation>%1 ist weder ein Hostname („api.example.com“, „.example.com“ auch für seine Subdomains) noch eine IP-Adresse oder „*“</translation>
    </message>
    <message>
        <source>%1 is reachable from other machines; it needs settings.apiKeys (refusing to serve without keys)</source>
        <translation>%1 ist von anderen Rechnern erreichbar; dafür sind settings.apiKeys nötig (ohne Schlüssel wird nichts bedient)</translation>
    </message>
    <message>
        <source>is not a valid HTTP header name</source>
        <translation>ist kein gültiger HTTP-Headername</translation>
    </message>
    <message>
        <source>header values must not contain line breaks</source>
        <translation>Header-Werte dürfen keine Zeilenumbrüche enthalten</translation>
    </message>
    <message>
        <source>must be a positive integer (got %1)</source>
        <translation>muss eine positive ganze Zahl sein (ist %1)</translation>
    </message>
    <message>
        <source>at least one provider is required</source>
        <translation>mindestens ein Anbieter ist erforderlich</translation>
    </message>
    <message>
        <source>is required and must not be empty</source>
        <translation>ist erforderlich und darf nicht leer sein</translation>
    </message>
    <message>
        <source>duplicate provider id %1</source>
        <translation>doppelte Anbieter-ID %1</translation>
    </message>
    <message>
        <source>unknown provider type %1 (known: %2)</source>
        <translation>unbekannter Anbietertyp %1 (bekannt: %2)</translation>
    </message>
    <message>
        <source>%1 is not a valid http(s) URL</source>
        <translation>%1 ist keine gültige http(s)-URL</translation>
    </message>
    <message>
        <source>is required for type %1</source>
        <translation>ist für den Typ %1 erforderlich</translation>
    </message>
    <message>
        <source>at least one chain is required</source>
        <translation>mindestens eine Kette ist erforderlich</translation>
    </message>
    <message>
        <source>duplicate chain name %1</source>
        <translation>doppelter Kettenname %1</translation>
    </message>
    <message>
        <source>at least one entry is required</source>
        <translation>mindestens ein Eintrag ist erforderlich</translation>
    </message>
    <message>
        <source>%1 is not the id of a provider</source>
        <translation>%1 ist nicht die ID eines Anbieters</translation>
    </message>
    <message>
        <source>must be 1 (got %1)</source>
        <translation>muss 1 sein (ist %1)</translation>
    </message>
    <message>
        <source>must be at most 200 characters</source>
        <translation>darf höchstens 200 Zeichen lang sein</translation>
    </message>
</context>
<context>
    <name>ConfigWriter</name>
    <message>
        <source>cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>cannot make it owner-only: %1</source>
        <translation>kann nicht auf den Eigentümer beschränkt werden: %1</translation>
    </message>
    <message>
        <source>cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>it is a directory</source>
        <translation>es ist ein Verzeichnis</translation>
    </message>
</context>
<context>
    <name>ConfigYamlReader</name>
    <message>
        <source>a list</source>
        <translation>eine Liste</translation>
    </message>
    <message>
        <source>a map</source>
        <translation>eine Map</translation>
    </message>
    <message>
        <source>the string %1</source>
        <translation>der String %1</translation>
    </message>
    <message>
        <source>nothing</source>
        <translation>nichts</translation>
    </message>
    <message>
        <source>expected a map of keys, got %1</source>
        <translation>erwartet: eine Map von Schlüsseln, gefunden: %1</translation>
    </message>
    <message>
        <source>keys must be plain names, got %1</source>
        <translation>Schlüssel müssen einfache Namen sein, gefunden: %1</translation>
    </message>
    <message>
        <source>duplicate key (first given on line %1)</source>
        <translation>doppelter Schlüssel (zuerst in Zeile %1)</translation>
    </message>
    <message>
        <source>unknown key, ignored</source>
        <translation>unbekannter Schlüssel, ignoriert</translation>
    </message>
    <message>
        <source>unknown key, ignored (did you mean %1?)</source>
        <translation>unbekannter Schlüssel, ignoriert (meinten Sie %1?)</translation>
    </message>
    <message>
        <source>expected a string, got %1</source>
        <translation>erwartet: ein String, gefunden: %1</translation>
    </message>
    <message>
        <source>expected an integer, got %1</source>
        <translation>erwartet: eine ganze Zahl, gefunden: %1</translation>
    </message>
    <message>
        <source>%1 is out of range</source>
        <translation>%1 liegt außerhalb des Bereichs</translation>
    </message>
    <message>
        <source>expected true or false, got %1</source>
        <translation>erwartet: true oder false, gefunden: %1</translation>
    </message>
    <message>
        <source>expected a list, got %1</source>
        <translation>erwartet: eine Liste, gefunden: %1</translation>
    </message>
    <message>
        <source>expected a provider (a map with id, name, type, apiKey)</source>
        <translation>erwartet: ein Anbieter (eine Map mit id, name, type, apiKey)</translation>
    </message>
    <message>
        <source>%1 is not &quot;model&quot; or &quot;provider&quot;</source>
        <translation>%1 ist weder „model“ noch „provider“</translation>
    </message>
    <message>
        <source>expected a chain (a map with name and entries)</source>
        <translation>erwartet: eine Kette (eine Map mit name und entries)</translation>
    </message>
    <message>
        <source>expected an entry (a map with provider and model)</source>
        <translation>erwartet: ein Eintrag (eine Map mit provider und model)</translation>
    </message>
    <message>
        <source>YAML syntax error: %1</source>
        <translation>YAML-Syntaxfehler: %1</translation>
    </message>
    <message>
        <source>the file is empty (expected version, settings, providers and chains)</source>
        <translation>die Datei ist leer (erwartet: version, settings, providers und chains)</translation>
    </message>
    <message>
        <source>is required (write &quot;version: 1&quot;)</source>
        <translation>ist erforderlich (schreiben Sie „version: 1“)</translation>
    </message>
    <message>
        <source>is required</source>
        <translation>ist erforderlich</translation>
    </message>
    <message>
        <source>could not read the YAML: %1</source>
        <translation>das YAML konnte nicht gelesen werden: %1</translation>
    </message>
</context>
<context>
    <name>DashboardPage</name>
    <message>
        <source>Dashboard</source>
        <translation>Übersicht</translation>
    </message>
    <message>
        <source>Requests today</source>
        <translation>Anfragen heute</translation>
    </message>
    <message>
        <source>Waterfall rate</source>
        <translation>Weiterleitungsquote</translation>
    </message>
    <message>
        <source>Tokens today</source>
        <translation>Tokens heute</translation>
    </message>
    <message>
        <source>Average latency</source>
        <translation>Mittlere Latenz</translation>
    </message>
    <message>
        <source>Chart period</source>
        <translation>Zeitraum des Diagramms</translation>
    </message>
    <message>
        <source>Last 24 hours</source>
        <translation>Letzte 24 Stunden</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>Letzte 30 Tage</translation>
    </message>
    <message>
        <source>Rate limits</source>
        <translation>Ratenlimits</translation>
    </message>
    <message>
        <source>Tokens over time</source>
        <translation>Tokens im Zeitverlauf</translation>
    </message>
    <message>
        <source>Provider</source>
        <translation>Anbieter</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>Anfragen</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>Last used</source>
        <translation>Zuletzt genutzt</translation>
    </message>
    <message>
        <source>Usage by provider</source>
        <translation>Nutzung nach Anbieter</translation>
    </message>
    <message>
        <source>No provider has served a request yet.</source>
        <translation>Noch kein Anbieter hat eine Anfrage beantwortet.</translation>
    </message>
    <message>
        <source>Chain</source>
        <translation>Kette</translation>
    </message>
    <message>
        <source>Usage by chain</source>
        <translation>Nutzung nach Kette</translation>
    </message>
    <message>
        <source>No chain has been used yet.</source>
        <translation>Noch keine Kette wurde genutzt.</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Served by</source>
        <translation>Beantwortet von</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>Versuche</translation>
    </message>
    <message>
        <source>Latency</source>
        <translation>Latenz</translation>
    </message>
    <message>
        <source>Recent requests</source>
        <translation>Letzte Anfragen</translation>
    </message>
    <message>
        <source>No requests yet. Send one from the Test prompt page or point any OpenAI client at %1.</source>
        <translation>Noch keine Anfragen. Senden Sie eine über die Seite Testanfrage oder richten Sie einen beliebigen OpenAI-Client auf %1.</translation>
    </message>
    <message>
        <source>The request log is off, so these numbers count only the requests since 429chain started. Set a database path in Settings to keep a history.</source>
        <translation>Das Anfrageprotokoll ist aus; diese Zahlen zählen nur die Anfragen seit dem Start von 429chain. Legen Sie in den Einstellungen einen Datenbankpfad fest, um einen Verlauf zu behalten.</translation>
    </message>
    <message>
        <source>none recorded yet</source>
        <translation>noch keine erfasst</translation>
    </message>
    <message>
        <source>%1 in total · %2 served</source>
        <translation>%1 insgesamt · %2 beantwortet</translation>
    </message>
    <message>
        <source>%1 in total</source>
        <translation>%1 insgesamt</translation>
    </message>
    <message>
        <source>no requests yet</source>
        <translation>noch keine Anfragen</translation>
    </message>
    <message>
        <source>per request, all time</source>
        <translation>pro Anfrage, gesamter Zeitraum</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>(keiner)</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keine</translation>
    </message>
    <message>
        <source>requests that needed a second entry</source>
        <translation>Anfragen, die einen zweiten Eintrag brauchten</translation>
    </message>
    <message>
        <source>%1 used a later entry</source>
        <translation>%1 nutzten einen späteren Eintrag</translation>
    </message>
</context>
<context>
    <name>DemoEnvironment</name>
    <message>
        <source>the simulated provider %1 could not listen on a loopback port</source>
        <translation>der simulierte Anbieter %1 konnte auf keinem Loopback-Port lauschen</translation>
    </message>
</context>
<context>
    <name>DesktopApp</name>
    <message>
        <source>429chain</source>
        <translation>429chain</translation>
    </message>
    <message>
        <source>429chain (demo providers)</source>
        <translation>429chain (Demo-Anbieter)</translation>
    </message>
</context>
<context>
    <name>DisplayFormat</name>
    <message>
        <source>%1 ms</source>
        <translation>%1 ms</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>%1 m %2 s</source>
        <translation>%1 min %2 s</translation>
    </message>
    <message>
        <source>%1 h %2 m</source>
        <translation>%1 h %2 min</translation>
    </message>
    <message>
        <source>%1 d %2 h</source>
        <translation>%1 T %2 h</translation>
    </message>
    <message>
        <source>%1 %</source>
        <translation>%1 %</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keiner</translation>
    </message>
    <message>
        <source>%1 / %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <source>%1 served</source>
        <translation>%1 beantwortet</translation>
    </message>
    <message>
        <source>%1 exhausted</source>
        <translation>%1 erschöpft</translation>
    </message>
    <message>
        <source>%1 client left</source>
        <translation>%1 Client getrennt</translation>
    </message>
    <message>
        <source>%1 refused</source>
        <translation>%1 abgelehnt</translation>
    </message>
    <message>
        <source>%1 failed</source>
        <translation>%1 fehlgeschlagen</translation>
    </message>
    <message>
        <source>served</source>
        <translation>beantwortet</translation>
    </message>
    <message>
        <source>skipped</source>
        <translation>übersprungen</translation>
    </message>
    <message>
        <source>rate limited</source>
        <translation>ratenbegrenzt</translation>
    </message>
    <message>
        <source>client error</source>
        <translation>Client-Fehler</translation>
    </message>
    <message>
        <source>server error</source>
        <translation>Serverfehler</translation>
    </message>
    <message>
        <source>timed out</source>
        <translation>Zeitüberschreitung</translation>
    </message>
    <message>
        <source>network error</source>
        <translation>Netzwerkfehler</translation>
    </message>
    <message>
        <source>stream broke off</source>
        <translation>Stream abgebrochen</translation>
    </message>
    <message>
        <source>≈%1</source>
        <translation>≈%1</translation>
    </message>
</context>
<context>
    <name>EntryPicker</name>
    <message>
        <source>Fetch models</source>
        <translation>Modelle abrufen</translation>
    </message>
    <message>
        <source>Provider of the entry</source>
        <translation>Anbieter des Eintrags</translation>
    </message>
    <message>
        <source>Model of the entry</source>
        <translation>Modell des Eintrags</translation>
    </message>
    <message>
        <source>Type a model id or fetch the list</source>
        <translation>Modell-ID eingeben oder die Liste abrufen</translation>
    </message>
    <message>
        <source>Fetch the provider&apos;s models</source>
        <translation>Die Modelle des Anbieters abrufen</translation>
    </message>
    <message>
        <source>&amp;Provider:</source>
        <translation>&amp;Anbieter:</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>&amp;Modell:</translation>
    </message>
    <message>
        <source>Asking %1 for its models…</source>
        <translation>Frage %1 nach seinen Modellen …</translation>
    </message>
    <message>
        <source>Could not list the models of %1: %2. Type the model id instead.</source>
        <translation>Die Modelle von %1 konnten nicht abgerufen werden: %2. Geben Sie die Modell-ID stattdessen ein.</translation>
    </message>
    <message>
        <source>free</source>
        <translation>kostenlos</translation>
    </message>
    <message>
        <source>paid</source>
        <translation>kostenpflichtig</translation>
    </message>
    <message>
        <source>%1 tokens</source>
        <translation>%1 Tokens</translation>
    </message>
    <message>
        <source>Add a provider first.</source>
        <translation>Legen Sie zuerst einen Anbieter an.</translation>
    </message>
    <message>
        <source>Type the model id, or fetch the provider&apos;s list to pick one.</source>
        <translation>Geben Sie die Modell-ID ein oder rufen Sie die Liste des Anbieters ab, um eines zu wählen.</translation>
    </message>
    <message>
        <source>Models listed: %1, free: %2.</source>
        <translation>Modelle: %1, davon kostenlos: %2.</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
</context>
<context>
    <name>EnvExpander</name>
    <message>
        <source>unterminated &quot;${&quot; (write &quot;$${&quot; for a literal &quot;${&quot;)</source>
        <translation>nicht abgeschlossenes „${“ (schreiben Sie „$${“ für ein wörtliches „${“)</translation>
    </message>
    <message>
        <source>&quot;${%1}&quot; is not a valid environment variable reference</source>
        <translation>„${%1}“ ist kein gültiger Verweis auf eine Umgebungsvariable</translation>
    </message>
    <message>
        <source>environment variable %1 is not set (write ${%1:-default} to give a default)</source>
        <translation>Umgebungsvariable %1 ist nicht gesetzt (schreiben Sie ${%1:-standard} für einen Standardwert)</translation>
    </message>
</context>
<context>
    <name>GuiChat</name>
    <message>
        <source>The proxy stopped before the request finished.</source>
        <translation>Der Proxy wurde beendet, bevor die Anfrage fertig war.</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>Abgebrochen.</translation>
    </message>
</context>
<context>
    <name>Health</name>
    <message>
        <source>%1 and %2 more</source>
        <translation>%1 und %2 weitere</translation>
    </message>
    <message>
        <source>Paused: new requests are refused</source>
        <translation>Pausiert: neue Anfragen werden abgelehnt</translation>
    </message>
    <message>
        <source>Exhausted: no entry can serve chain %1</source>
        <translation>Erschöpft: kein Eintrag kann die Kette %1 bedienen</translation>
    </message>
    <message>
        <source>Cooling down: %1</source>
        <translation>In Abkühlung: %1</translation>
    </message>
    <message>
        <source>All providers available</source>
        <translation>Alle Anbieter verfügbar</translation>
    </message>
</context>
<context>
    <name>LogPage</name>
    <message>
        <source>Request log</source>
        <translation>Anfrageprotokoll</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>&amp;Aktualisieren</translation>
    </message>
    <message>
        <source>Read the newest requests again (F5)</source>
        <translation>Die neuesten Anfragen erneut lesen (F5)</translation>
    </message>
    <message>
        <source>&amp;Export CSV…</source>
        <translation>Als CSV e&amp;xportieren…</translation>
    </message>
    <message>
        <source>Save every request the filters match as a CSV file</source>
        <translation>Alle Anfragen, die zu den Filtern passen, als CSV-Datei speichern</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>Anfragen</translation>
    </message>
    <message>
        <source>Load &amp;more</source>
        <translation>&amp;Mehr laden</translation>
    </message>
    <message>
        <source>Show the next %1 older requests</source>
        <translation>Die nächsten %1 älteren Anfragen zeigen</translation>
    </message>
    <message>
        <source>Chain filter</source>
        <translation>Kettenfilter</translation>
    </message>
    <message>
        <source>Provider filter</source>
        <translation>Anbieterfilter</translation>
    </message>
    <message>
        <source>Status filter</source>
        <translation>Statusfilter</translation>
    </message>
    <message>
        <source>Any status</source>
        <translation>Jeder Status</translation>
    </message>
    <message>
        <source>Served (2xx)</source>
        <translation>Beantwortet (2xx)</translation>
    </message>
    <message>
        <source>Refused (4xx)</source>
        <translation>Abgelehnt (4xx)</translation>
    </message>
    <message>
        <source>Exhausted (429)</source>
        <translation>Erschöpft (429)</translation>
    </message>
    <message>
        <source>Failed (5xx)</source>
        <translation>Fehlgeschlagen (5xx)</translation>
    </message>
    <message>
        <source>Period filter</source>
        <translation>Zeitraumfilter</translation>
    </message>
    <message>
        <source>Any time</source>
        <translation>Jederzeit</translation>
    </message>
    <message>
        <source>Last hour</source>
        <translation>Letzte Stunde</translation>
    </message>
    <message>
        <source>Last 24 hours</source>
        <translation>Letzte 24 Stunden</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>Letzte 7 Tage</translation>
    </message>
    <message>
        <source>&amp;Chain:</source>
        <translation>&amp;Kette:</translation>
    </message>
    <message>
        <source>&amp;Provider:</source>
        <translation>A&amp;nbieter:</translation>
    </message>
    <message>
        <source>&amp;Status:</source>
        <translation>&amp;Status:</translation>
    </message>
    <message>
        <source>P&amp;eriod:</source>
        <translation>&amp;Zeitraum:</translation>
    </message>
    <message>
        <source>Any chain</source>
        <translation>Jede Kette</translation>
    </message>
    <message>
        <source>Any provider</source>
        <translation>Jeder Anbieter</translation>
    </message>
    <message>
        <source>Select a request to see its attempts.</source>
        <translation>Wählen Sie eine Anfrage, um ihre Versuche zu sehen.</translation>
    </message>
    <message>
        <source>Loading request #%1…</source>
        <translation>Anfrage #%1 wird geladen…</translation>
    </message>
    <message>
        <source>Request #%1 is no longer in the log (retention removed it).</source>
        <translation>Anfrage #%1 ist nicht mehr im Protokoll (die Aufbewahrungsfrist hat sie entfernt).</translation>
    </message>
    <message>
        <source>Export the request log</source>
        <translation>Anfrageprotokoll exportieren</translation>
    </message>
    <message>
        <source>CSV files (*.csv);;All files (*)</source>
        <translation>CSV-Dateien (*.csv);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>The request log is off: there is nothing to export.</source>
        <translation>Das Anfrageprotokoll ist aus: Es gibt nichts zu exportieren.</translation>
    </message>
    <message>
        <source>Exporting…</source>
        <translation>Export läuft…</translation>
    </message>
    <message>
        <source>Saved %1 rows to %2</source>
        <translation>%1 Zeilen in %2 gespeichert</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>Export fehlgeschlagen</translation>
    </message>
    <message>
        <source>The request log is off, so there is no history to show. Set a database path in Settings and restart 429chain to keep one.</source>
        <translation>Das Anfrageprotokoll ist aus, daher gibt es keinen Verlauf. Legen Sie in den Einstellungen einen Datenbankpfad fest und starten Sie 429chain neu, um einen zu führen.</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Wird geladen…</translation>
    </message>
    <message>
        <source>No request matches these filters.</source>
        <translation>Keine Anfrage passt zu diesen Filtern.</translation>
    </message>
    <message>
        <source>No requests recorded yet. Send one from the Test prompt page or point any OpenAI client at %1.</source>
        <translation>Noch keine Anfragen erfasst. Senden Sie eine über die Seite Testanfrage oder richten Sie einen beliebigen OpenAI-Client auf %1.</translation>
    </message>
    <message>
        <source>Newest %1 shown; older ones with Load more</source>
        <translation>Die neuesten %1 angezeigt; ältere mit Mehr laden</translation>
    </message>
    <message>
        <source>All %1 shown</source>
        <translation>Alle %1 angezeigt</translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>Export fehlgeschlagen: %1</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>429chain</source>
        <translation>429chain</translation>
    </message>
    <message>
        <source>Pages</source>
        <translation>Seiten</translation>
    </message>
    <message>
        <source>%1 (Ctrl+%2)</source>
        <translation>%1 (Strg+%2)</translation>
    </message>
    <message>
        <source>This build has no pages.</source>
        <translation>Dieser Build enthält keine Seiten.</translation>
    </message>
    <message>
        <source>Base URL</source>
        <translation>Basis-URL</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Kopieren</translation>
    </message>
    <message>
        <source>Copy the base URL to the clipboard</source>
        <translation>Basis-URL in die Zwischenablage kopieren</translation>
    </message>
    <message>
        <source>Copy base URL</source>
        <translation>Basis-URL kopieren</translation>
    </message>
    <message>
        <source>Proxy state</source>
        <translation>Proxy-Zustand</translation>
    </message>
    <message>
        <source>&amp;Quit 429chain</source>
        <translation>429chain &amp;beenden</translation>
    </message>
    <message>
        <source>&amp;Close window</source>
        <translation>Fenster &amp;schließen</translation>
    </message>
    <message>
        <source>Base URL: %1</source>
        <translation>Basis-URL: %1</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>Pausiert</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>Läuft</translation>
    </message>
    <message>
        <source>%1 — %2</source>
        <translation>%1 — %2</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Fortsetzen</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pausieren</translation>
    </message>
    <message>
        <source>Resume the proxy: serve chat requests again</source>
        <translation>Proxy fortsetzen: Chat-Anfragen wieder bedienen</translation>
    </message>
    <message>
        <source>Pause the proxy: refuse new chat requests with 503</source>
        <translation>Proxy pausieren: neue Chat-Anfragen mit 503 ablehnen</translation>
    </message>
    <message>
        <source>Resume proxy</source>
        <translation>Proxy fortsetzen</translation>
    </message>
    <message>
        <source>Pause proxy</source>
        <translation>Proxy pausieren</translation>
    </message>
</context>
<context>
    <name>NewChainDialog</name>
    <message>
        <source>New chain</source>
        <translation>Neue Kette</translation>
    </message>
    <message>
        <source>A chain needs a name (clients send it as the model) and a first entry; add more entries once it exists.</source>
        <translation>Eine Kette braucht einen Namen (Clients senden ihn als Modell) und einen ersten Eintrag; weitere Einträge fügen Sie hinzu, sobald sie existiert.</translation>
    </message>
    <message>
        <source>Chain name</source>
        <translation>Name der Kette</translation>
    </message>
    <message>
        <source>e.g. fast</source>
        <translation>z. B. schnell</translation>
    </message>
    <message>
        <source>Create chain</source>
        <translation>Kette anlegen</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>A chain &quot;%1&quot; exists already.</source>
        <translation>Eine Kette „%1“ gibt es bereits.</translation>
    </message>
</context>
<context>
    <name>OnboardingDialog</name>
    <message>
        <source>Copy</source>
        <translation>Kopieren</translation>
    </message>
    <message>
        <source>Welcome to 429chain</source>
        <translation>Willkommen bei 429chain</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Welcome to 429chain&lt;/h2&gt;</source>
        <translation>&lt;h2&gt;Willkommen bei 429chain&lt;/h2&gt;</translation>
    </message>
    <message>
        <source>429chain is an OpenAI-compatible endpoint on this computer. It sends each request to the first provider in a chain that still has free quota, so your tools keep working when one free tier says 429.</source>
        <translation>429chain ist ein OpenAI-kompatibler Endpunkt auf diesem Computer. Jede Anfrage geht an den ersten Anbieter einer Kette, der noch freies Kontingent hat – so arbeiten Ihre Werkzeuge weiter, wenn ein kostenloses Kontingent mit 429 antwortet.</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API-Schlüssel</translation>
    </message>
    <message>
        <source>Copy API key</source>
        <translation>API-Schlüssel kopieren</translation>
    </message>
    <message>
        <source>Your API key:</source>
        <translation>Ihr API-Schlüssel:</translation>
    </message>
    <message>
        <source>Base URL</source>
        <translation>Basis-URL</translation>
    </message>
    <message>
        <source>Copy base URL</source>
        <translation>Basis-URL kopieren</translation>
    </message>
    <message>
        <source>Base URL:</source>
        <translation>Basis-URL:</translation>
    </message>
    <message>
        <source>Point any OpenAI client at the base URL with this key, and use a chain name (&quot;default&quot;) as the model.</source>
        <translation>Richten Sie einen beliebigen OpenAI-Client mit diesem Schlüssel auf die Basis-URL und verwenden Sie einen Kettennamen („default“) als Modell.</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Beenden</translation>
    </message>
    <message>
        <source>Start with &amp;demo providers</source>
        <translation>Mit &amp;Demo-Anbietern starten</translation>
    </message>
    <message>
        <source>Simulated providers on this computer: watch the waterfall without an account. Nothing is saved; you will be asked again next time.</source>
        <translation>Simulierte Anbieter auf diesem Computer: Sehen Sie den Wasserfall ohne Konto. Nichts wird gespeichert; beim nächsten Start werden Sie erneut gefragt.</translation>
    </message>
    <message>
        <source>&amp;Add a first provider…</source>
        <translation>Ersten &amp;Anbieter hinzufügen…</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Your first provider&lt;/h2&gt;</source>
        <translation>&lt;h2&gt;Ihr erster Anbieter&lt;/h2&gt;</translation>
    </message>
    <message>
        <source>Sign up for a free tier (Groq, OpenRouter, Cerebras, Google AI Studio, Mistral, …), create a key there and enter it here. You can add more providers and chains afterwards.</source>
        <translation>Registrieren Sie sich für ein kostenloses Kontingent (Groq, OpenRouter, Cerebras, Google AI Studio, Mistral, …), erstellen Sie dort einen Schlüssel und geben Sie ihn hier ein. Weitere Anbieter und Ketten können Sie danach hinzufügen.</translation>
    </message>
    <message>
        <source>Provider type</source>
        <translation>Anbietertyp</translation>
    </message>
    <message>
        <source>&amp;Type:</source>
        <translation>&amp;Typ:</translation>
    </message>
    <message>
        <source>Provider base URL</source>
        <translation>Basis-URL des Anbieters</translation>
    </message>
    <message>
        <source>Base &amp;URL:</source>
        <translation>Basis-&amp;URL:</translation>
    </message>
    <message>
        <source>Provider API key</source>
        <translation>API-Schlüssel des Anbieters</translation>
    </message>
    <message>
        <source>&amp;Show</source>
        <translation>&amp;Anzeigen</translation>
    </message>
    <message>
        <source>Show the provider key</source>
        <translation>Schlüssel des Anbieters anzeigen</translation>
    </message>
    <message>
        <source>API &amp;key:</source>
        <translation>API-&amp;Schlüssel:</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>e.g. llama-3.1-8b-instant</source>
        <translation>z. B. llama-3.1-8b-instant</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>&amp;Modell:</translation>
    </message>
    <message>
        <source>&amp;Back</source>
        <translation>&amp;Zurück</translation>
    </message>
    <message>
        <source>&amp;Save and start</source>
        <translation>Speichern und &amp;starten</translation>
    </message>
    <message>
        <source>required for this type, e.g. http://localhost:8080/v1</source>
        <translation>für diesen Typ erforderlich, z. B. http://localhost:8080/v1</translation>
    </message>
    <message>
        <source>Enter the key you created at the provider.</source>
        <translation>Geben Sie den Schlüssel ein, den Sie beim Anbieter erstellt haben.</translation>
    </message>
    <message>
        <source>Enter a model of this provider (you can fetch its list later on the Providers page).</source>
        <translation>Geben Sie ein Modell dieses Anbieters ein (die Liste können Sie später auf der Seite „Anbieter“ abrufen).</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
</context>
<context>
    <name>PageList</name>
    <message>
        <source>Dashboard</source>
        <translation>Übersicht</translation>
    </message>
    <message>
        <source>Providers</source>
        <translation>Anbieter</translation>
    </message>
    <message>
        <source>Chains</source>
        <translation>Ketten</translation>
    </message>
    <message>
        <source>Test prompt</source>
        <translation>Testanfrage</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Protokoll</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
</context>
<context>
    <name>ProviderDialog</name>
    <message>
        <source>Requests per minute:</source>
        <translation>Anfragen pro Minute:</translation>
    </message>
    <message>
        <source>Requests per hour:</source>
        <translation>Anfragen pro Stunde:</translation>
    </message>
    <message>
        <source>Requests per day:</source>
        <translation>Anfragen pro Tag:</translation>
    </message>
    <message>
        <source>Tokens per minute:</source>
        <translation>Tokens pro Minute:</translation>
    </message>
    <message>
        <source>Tokens per day:</source>
        <translation>Tokens pro Tag:</translation>
    </message>
    <message>
        <source>Concurrent requests:</source>
        <translation>Gleichzeitige Anfragen:</translation>
    </message>
    <message>
        <source>Edit provider %1</source>
        <translation>Anbieter %1 bearbeiten</translation>
    </message>
    <message>
        <source>Add a provider</source>
        <translation>Anbieter hinzufügen</translation>
    </message>
    <message>
        <source>&amp;Connection</source>
        <translation>&amp;Verbindung</translation>
    </message>
    <message>
        <source>&amp;Limits</source>
        <translation>&amp;Limits</translation>
    </message>
    <message>
        <source>&amp;Models</source>
        <translation>&amp;Modelle</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>&amp;Speichern</translation>
    </message>
    <message>
        <source>&amp;Add provider</source>
        <translation>Anbieter &amp;hinzufügen</translation>
    </message>
    <message>
        <source>Provider ID</source>
        <translation>Anbieter-ID</translation>
    </message>
    <message>
        <source>e.g. groq</source>
        <translation>z. B. groq</translation>
    </message>
    <message>
        <source>The ID cannot change: chains refer to it.</source>
        <translation>Die ID lässt sich nicht ändern: Ketten verweisen auf sie.</translation>
    </message>
    <message>
        <source>Letters, digits, dot, dash, underscore. Chains refer to it.</source>
        <translation>Buchstaben, Ziffern, Punkt, Bindestrich, Unterstrich. Ketten verweisen auf sie.</translation>
    </message>
    <message>
        <source>&amp;ID:</source>
        <translation>&amp;ID:</translation>
    </message>
    <message>
        <source>Provider name</source>
        <translation>Name des Anbieters</translation>
    </message>
    <message>
        <source>Shown in lists; the ID when empty</source>
        <translation>Wird in Listen angezeigt; leer: die ID</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>Provider type</source>
        <translation>Art des Anbieters</translation>
    </message>
    <message>
        <source>&amp;Type:</source>
        <translation>&amp;Art:</translation>
    </message>
    <message>
        <source>Base URL</source>
        <translation>Basis-URL</translation>
    </message>
    <message>
        <source>Base &amp;URL:</source>
        <translation>Basis-&amp;URL:</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API-Schlüssel</translation>
    </message>
    <message>
        <source>Leave empty to keep the stored key</source>
        <translation>Leer lassen, um den gespeicherten Schlüssel zu behalten</translation>
    </message>
    <message>
        <source>The provider&apos;s API key, or ${ENV_VAR}</source>
        <translation>Der API-Schlüssel des Anbieters oder ${ENV_VAR}</translation>
    </message>
    <message>
        <source>API &amp;key:</source>
        <translation>API-Schl&amp;üssel:</translation>
    </message>
    <message>
        <source>Timeout in milliseconds</source>
        <translation>Zeitlimit in Millisekunden</translation>
    </message>
    <message>
        <source> ms</source>
        <translation> ms</translation>
    </message>
    <message>
        <source>Default (settings)</source>
        <translation>Standard (Einstellungen)</translation>
    </message>
    <message>
        <source>Per attempt. The default is the request timeout of the settings.</source>
        <translation>Pro Versuch. Standard ist das Anfrage-Zeitlimit der Einstellungen.</translation>
    </message>
    <message>
        <source>T&amp;imeout:</source>
        <translation>&amp;Zeitlimit:</translation>
    </message>
    <message>
        <source>&amp;Enabled: chains use this provider</source>
        <translation>A&amp;ktiv: Ketten verwenden diesen Anbieter</translation>
    </message>
    <message>
        <source>Used when the provider does not state its limits in its answers. &quot;No limit&quot; leaves it to what the provider reports.</source>
        <translation>Gilt, wenn der Anbieter seine Limits nicht in seinen Antworten nennt. „Kein Limit“ überlässt es dem, was der Anbieter meldet.</translation>
    </message>
    <message>
        <source>No limit</source>
        <translation>Kein Limit</translation>
    </message>
    <message>
        <source>Limits apply to</source>
        <translation>Limits gelten für</translation>
    </message>
    <message>
        <source>Each model separately</source>
        <translation>Jedes Modell einzeln</translation>
    </message>
    <message>
        <source>All models of the provider together</source>
        <translation>Alle Modelle des Anbieters zusammen</translation>
    </message>
    <message>
        <source>Limits apply &amp;to:</source>
        <translation>Limits gelten &amp;für:</translation>
    </message>
    <message>
        <source>&amp;Fetch models</source>
        <translation>Modelle &amp;abrufen</translation>
    </message>
    <message>
        <source>Fetch the provider&apos;s models</source>
        <translation>Die Modelle des Anbieters abrufen</translation>
    </message>
    <message>
        <source>Models of the provider</source>
        <translation>Modelle des Anbieters</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>Context</source>
        <translation>Kontext</translation>
    </message>
    <message>
        <source>Price</source>
        <translation>Preis</translation>
    </message>
    <message>
        <source>Add the selected model to a chain</source>
        <translation>Das gewählte Modell einer Kette hinzufügen</translation>
    </message>
    <message>
        <source>Asks the provider for its models with the stored key and address.</source>
        <translation>Fragt den Anbieter mit dem gespeicherten Schlüssel und der gespeicherten Adresse nach seinen Modellen.</translation>
    </message>
    <message>
        <source>Add the provider first; then edit it to list its models.</source>
        <translation>Legen Sie den Anbieter zuerst an; bearbeiten Sie ihn dann, um seine Modelle zu sehen.</translation>
    </message>
    <message>
        <source>https://host:port/v1</source>
        <translation>https://host:port/v1</translation>
    </message>
    <message>
        <source>Required for this type: the server&apos;s base URL, as a rule ending in /v1.</source>
        <translation>Für diese Art erforderlich: die Basis-URL des Servers, in der Regel mit /v1 am Ende.</translation>
    </message>
    <message>
        <source>The default for %1 is filled in; change it for a proxy or a self-hosted server.</source>
        <translation>Der Standard für %1 ist eingetragen; ändern Sie ihn für einen Proxy oder einen eigenen Server.</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>Verbergen</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>Zeigen</translation>
    </message>
    <message>
        <source>Hide the API key</source>
        <translation>Den API-Schlüssel verbergen</translation>
    </message>
    <message>
        <source>Show the API key</source>
        <translation>Den API-Schlüssel zeigen</translation>
    </message>
    <message>
        <source>Shows what you type; the stored key is never shown</source>
        <translation>Zeigt, was Sie eingeben; der gespeicherte Schlüssel wird nie angezeigt</translation>
    </message>
    <message>
        <source>Shows the key as typed</source>
        <translation>Zeigt den Schlüssel wie eingegeben</translation>
    </message>
    <message>
        <source>A provider &quot;%1&quot; exists already: edit it instead, or choose another ID.</source>
        <translation>Einen Anbieter „%1“ gibt es bereits: Bearbeiten Sie ihn oder wählen Sie eine andere ID.</translation>
    </message>
    <message>
        <source>Asking %1 for its models…</source>
        <translation>Frage %1 nach seinen Modellen …</translation>
    </message>
    <message>
        <source>Could not list the models: %1</source>
        <translation>Die Modelle konnten nicht abgerufen werden: %1</translation>
    </message>
    <message>
        <source>Free</source>
        <translation>Kostenlos</translation>
    </message>
    <message>
        <source>Paid</source>
        <translation>Kostenpflichtig</translation>
    </message>
    <message>
        <source>Not stated</source>
        <translation>Nicht angegeben</translation>
    </message>
    <message>
        <source>The provider listed no models.</source>
        <translation>Der Anbieter hat keine Modelle genannt.</translation>
    </message>
    <message>
        <source>There is no chain yet: create one on the Chains page.</source>
        <translation>Es gibt noch keine Kette: Legen Sie eine auf der Seite „Ketten“ an.</translation>
    </message>
    <message>
        <source>Add to chain</source>
        <translation>Zur Kette hinzufügen</translation>
    </message>
    <message>
        <source>Add %1 / %2 at the end of the chain:</source>
        <translation>%1 / %2 am Ende dieser Kette hinzufügen:</translation>
    </message>
    <message>
        <source>%1 / %2 is in chain %3 already.</source>
        <translation>%1 / %2 ist bereits in der Kette %3.</translation>
    </message>
    <message>
        <source>%1 / %2 added to chain %3.</source>
        <translation>%1 / %2 zur Kette %3 hinzugefügt.</translation>
    </message>
    <message>
        <source>Add to c&amp;hain…</source>
        <translation>Zur &amp;Kette hinzufügen …</translation>
    </message>
    <message>
        <source>Models: %1, free: %2. Pick one and add it to a chain.</source>
        <translation>Modelle: %1, davon kostenlos: %2. Wählen Sie eines und fügen Sie es einer Kette hinzu.</translation>
    </message>
</context>
<context>
    <name>ProviderKind</name>
    <message>
        <source>OpenRouter</source>
        <translation>OpenRouter</translation>
    </message>
    <message>
        <source>Groq</source>
        <translation>Groq</translation>
    </message>
    <message>
        <source>Cerebras</source>
        <translation>Cerebras</translation>
    </message>
    <message>
        <source>OpenAI</source>
        <translation>OpenAI</translation>
    </message>
    <message>
        <source>Google AI (Gemini)</source>
        <translation>Google AI (Gemini)</translation>
    </message>
    <message>
        <source>Mistral</source>
        <translation>Mistral</translation>
    </message>
    <message>
        <source>NVIDIA NIM</source>
        <translation>NVIDIA NIM</translation>
    </message>
    <message>
        <source>Any OpenAI-compatible server</source>
        <translation>Beliebiger OpenAI-kompatibler Server</translation>
    </message>
</context>
<context>
    <name>ProviderModels</name>
    <message>
        <source>no answer from %1 within %2 ms</source>
        <translation>keine Antwort von %1 innerhalb von %2 ms</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>%1 returned %2: %3</source>
        <translation>%1 hat %2 geantwortet: %3</translation>
    </message>
    <message>
        <source>%1 returned a model list this proxy does not understand</source>
        <translation>%1 hat eine Modellliste geliefert, die dieser Proxy nicht versteht</translation>
    </message>
</context>
<context>
    <name>ProvidersPage</name>
    <message>
        <source>Providers</source>
        <translation>Anbieter</translation>
    </message>
    <message>
        <source>The accounts 429chain sends requests to. Chains list which of their models to try, in order.</source>
        <translation>Die Konten, an die 429chain Anfragen sendet. Ketten legen fest, welche ihrer Modelle in welcher Reihenfolge versucht werden.</translation>
    </message>
    <message>
        <source>&amp;Add provider…</source>
        <translation>Anbieter &amp;hinzufügen …</translation>
    </message>
    <message>
        <source>&amp;Edit…</source>
        <translation>&amp;Bearbeiten …</translation>
    </message>
    <message>
        <source>Edit the selected provider</source>
        <translation>Den gewählten Anbieter bearbeiten</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>&amp;Löschen</translation>
    </message>
    <message>
        <source>Delete the selected provider</source>
        <translation>Den gewählten Anbieter löschen</translation>
    </message>
    <message>
        <source>Provider</source>
        <translation>Anbieter</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Art</translation>
    </message>
    <message>
        <source>Base URL</source>
        <translation>Basis-URL</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Requests today</source>
        <translation>Anfragen heute</translation>
    </message>
    <message>
        <source>No providers yet. Add one with its API key to start.</source>
        <translation>Noch keine Anbieter. Fügen Sie zum Start einen mit seinem API-Schlüssel hinzu.</translation>
    </message>
    <message>
        <source>Add provider…</source>
        <translation>Anbieter hinzufügen …</translation>
    </message>
    <message>
        <source>%1 d %2 h</source>
        <translation>%1 T %2 h</translation>
    </message>
    <message>
        <source>all models</source>
        <translation>alle Modelle</translation>
    </message>
    <message>
        <source>%1: cooling down, %2 left</source>
        <translation>%1: pausiert, noch %2</translation>
    </message>
    <message>
        <source>%1: exhausted</source>
        <translation>%1: erschöpft</translation>
    </message>
    <message>
        <source>Available</source>
        <translation>Verfügbar</translation>
    </message>
    <message>
        <source>Cooling down %1</source>
        <translation>Pausiert %1</translation>
    </message>
    <message>
        <source>Exhausted</source>
        <translation>Erschöpft</translation>
    </message>
    <message>
        <source>Available; %1 of %2 models cooling down (%3)</source>
        <translation>Verfügbar; %1 von %2 Modellen pausiert (%3)</translation>
    </message>
    <message>
        <source>Available; %1 of %2 models exhausted</source>
        <translation>Verfügbar; %1 von %2 Modellen erschöpft</translation>
    </message>
    <message>
        <source> – disabled</source>
        <translation> – inaktiv</translation>
    </message>
    <message>
        <source>%1 (the type&apos;s default)</source>
        <translation>%1 (Standard der Art)</translation>
    </message>
    <message>
        <source>No request log</source>
        <translation>Kein Anfrageprotokoll</translation>
    </message>
    <message>
        <source>Delete provider</source>
        <translation>Anbieter löschen</translation>
    </message>
    <message>
        <source>Delete the provider &quot;%1&quot;?</source>
        <translation>Den Anbieter „%1“ löschen?</translation>
    </message>
    <message>
        <source>The provider and its key are removed from the config.</source>
        <translation>Der Anbieter und sein Schlüssel werden aus der Konfiguration entfernt.</translation>
    </message>
    <message>
        <source>It is still used by %1: 429chain refuses to delete it until no chain uses it.</source>
        <translation>Er wird noch von %1 verwendet: 429chain löscht ihn erst, wenn keine Kette ihn mehr verwendet.</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Löschen</translation>
    </message>
    <message>
        <source>&quot;%1&quot; was not deleted: %2. Remove it from those chains first (Chains page).</source>
        <translation>„%1“ wurde nicht gelöscht: %2. Entfernen Sie ihn zuerst aus diesen Ketten (Seite „Ketten“).</translation>
    </message>
    <message>
        <source>&quot;%1&quot; was not deleted: %2</source>
        <translation>„%1“ wurde nicht gelöscht: %2</translation>
    </message>
    <message>
        <source>Requests %1 answered since 00:00 UTC</source>
        <translation>Von %1 beantwortete Anfragen seit 00:00 UTC</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>Inaktiv</translation>
    </message>
    <message>
        <source>Chains skip this provider until it is enabled again (Edit…).</source>
        <translation>Ketten überspringen diesen Anbieter, bis er wieder aktiviert wird (Bearbeiten …).</translation>
    </message>
</context>
<context>
    <name>ProxyService</name>
    <message>
        <source>The proxy is paused; resume it from the 429chain tray menu.</source>
        <translation>Der Proxy ist pausiert; setzen Sie ihn über das Tray-Menü von 429chain fort.</translation>
    </message>
    <message>
        <source>Proxy paused: new chat requests are refused with 503 proxy_paused</source>
        <translation>Proxy pausiert: neue Chat-Anfragen werden mit 503 proxy_paused abgelehnt</translation>
    </message>
    <message>
        <source>Proxy resumed</source>
        <translation>Proxy fortgesetzt</translation>
    </message>
    <message>
        <source>Chain &quot;%1&quot; is serving again (%2/%3)</source>
        <translation>Kette „%1“ antwortet wieder (%2/%3)</translation>
    </message>
    <message>
        <source>Chain &quot;%1&quot; ran dry: no entry could serve the request; the first one frees up at %2</source>
        <translation>Kette „%1“ ist erschöpft: kein Eintrag konnte die Anfrage bedienen; der erste wird um %2 wieder frei</translation>
    </message>
    <message>
        <source>Chain &quot;%1&quot; ran dry: no entry could serve the request</source>
        <translation>Kette „%1“ ist erschöpft: kein Eintrag konnte die Anfrage bedienen</translation>
    </message>
    <message>
        <source>%1/%2 cooling down until %3: %4</source>
        <translation>%1/%2 pausiert bis %3: %4</translation>
    </message>
    <message>
        <source>%1/%2 is available again</source>
        <translation>%1/%2 ist wieder verfügbar</translation>
    </message>
    <message>
        <source>%1 takes effect after a restart</source>
        <translation>%1 wirkt nach einem Neustart</translation>
    </message>
    <message>
        <source>%1 take effect after a restart</source>
        <translation>%1 wirken nach einem Neustart</translation>
    </message>
    <message>
        <source>Failed to persist config: %1</source>
        <translation>Konfiguration konnte nicht gespeichert werden: %1</translation>
    </message>
    <message>
        <source> (applied; not saved: the running config has no file)</source>
        <translation> (angewendet; nicht gespeichert: die laufende Konfiguration hat keine Datei)</translation>
    </message>
    <message>
        <source>Provider &quot;%1&quot; added</source>
        <translation>Anbieter „%1“ hinzugefügt</translation>
    </message>
    <message>
        <source>Provider &quot;%1&quot; updated</source>
        <translation>Anbieter „%1“ aktualisiert</translation>
    </message>
    <message>
        <source>Provider not found</source>
        <translation>Anbieter nicht gefunden</translation>
    </message>
    <message>
        <source>Provider is referenced by chains: %1</source>
        <translation>Der Anbieter wird von Ketten verwendet: %1</translation>
    </message>
    <message>
        <source>Provider &quot;%1&quot; deleted</source>
        <translation>Anbieter „%1“ gelöscht</translation>
    </message>
    <message>
        <source>Chain references non-existent providers: %1</source>
        <translation>Die Kette verweist auf nicht vorhandene Anbieter: %1</translation>
    </message>
    <message>
        <source>Chain &quot;%1&quot; added</source>
        <translation>Kette „%1“ hinzugefügt</translation>
    </message>
    <message>
        <source>Chain &quot;%1&quot; updated</source>
        <translation>Kette „%1“ aktualisiert</translation>
    </message>
    <message>
        <source>Chain not found</source>
        <translation>Kette nicht gefunden</translation>
    </message>
    <message>
        <source>Cannot delete default chain</source>
        <translation>Die Standardkette kann nicht gelöscht werden</translation>
    </message>
    <message>
        <source>Chain &quot;%1&quot; deleted</source>
        <translation>Kette „%1“ gelöscht</translation>
    </message>
    <message>
        <source>The new chain name must not be empty</source>
        <translation>Der neue Kettenname darf nicht leer sein</translation>
    </message>
    <message>
        <source>Chain &quot;%1&quot; unchanged</source>
        <translation>Kette „%1“ unverändert</translation>
    </message>
    <message>
        <source>A chain named &quot;%1&quot; already exists</source>
        <translation>Eine Kette namens „%1“ gibt es bereits</translation>
    </message>
    <message>
        <source>Chain &quot;%1&quot; renamed to &quot;%2&quot;</source>
        <translation>Kette „%1“ in „%2“ umbenannt</translation>
    </message>
    <message>
        <source>Settings saved</source>
        <translation>Einstellungen gespeichert</translation>
    </message>
    <message>
        <source>The running config was not loaded from a file</source>
        <translation>Die laufende Konfiguration wurde nicht aus einer Datei geladen</translation>
    </message>
    <message>
        <source>The edited config file %1 was rejected; the running config is kept: %2</source>
        <translation>Die bearbeitete Konfigurationsdatei %1 wurde abgelehnt; die laufende Konfiguration bleibt: %2</translation>
    </message>
    <message>
        <source>Config file not found: %1</source>
        <translation>Konfigurationsdatei nicht gefunden: %1</translation>
    </message>
    <message>
        <source>Cannot read config file %1: %2</source>
        <translation>Konfigurationsdatei %1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Config reloaded from %1</source>
        <translation>Konfiguration neu geladen aus %1</translation>
    </message>
</context>
<context>
    <name>RateLimitView</name>
    <message>
        <source>tokens per minute</source>
        <translation>Tokens pro Minute</translation>
    </message>
    <message>
        <source>requests per minute</source>
        <translation>Anfragen pro Minute</translation>
    </message>
    <message>
        <source>tokens per hour</source>
        <translation>Tokens pro Stunde</translation>
    </message>
    <message>
        <source>requests per hour</source>
        <translation>Anfragen pro Stunde</translation>
    </message>
    <message>
        <source>tokens per day</source>
        <translation>Tokens pro Tag</translation>
    </message>
    <message>
        <source>requests per day</source>
        <translation>Anfragen pro Tag</translation>
    </message>
    <message>
        <source>tokens per month</source>
        <translation>Tokens pro Monat</translation>
    </message>
    <message>
        <source>requests per month</source>
        <translation>Anfragen pro Monat</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>requests</source>
        <translation>Anfragen</translation>
    </message>
    <message>
        <source>%1 (whole provider)</source>
        <translation>%1 (ganzer Anbieter)</translation>
    </message>
    <message>
        <source>%1: %2 of %3 left</source>
        <translation>%1: %2 von %3 übrig</translation>
    </message>
    <message>
        <source>%1: %2 left</source>
        <translation>%1: %2 übrig</translation>
    </message>
    <message>
        <source>%1: limit %2</source>
        <translation>%1: Limit %2</translation>
    </message>
    <message>
        <source>Rate-limit status per entry</source>
        <translation>Ratenlimit-Status je Eintrag</translation>
    </message>
    <message>
        <source>Entry</source>
        <translation>Eintrag</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Resets in</source>
        <translation>Zurückgesetzt in</translation>
    </message>
    <message>
        <source>Quota</source>
        <translation>Kontingent</translation>
    </message>
    <message>
        <source>No chain entries yet. Add a provider and a chain, and their quotas show up here.</source>
        <translation>Noch keine Ketteneinträge. Fügen Sie einen Anbieter und eine Kette hinzu, dann erscheinen ihre Kontingente hier.</translation>
    </message>
    <message>
        <source>Cooling down</source>
        <translation>In Abkühlung</translation>
    </message>
    <message>
        <source>Quota known</source>
        <translation>Kontingent bekannt</translation>
    </message>
    <message>
        <source>Available</source>
        <translation>Verfügbar</translation>
    </message>
    <message>
        <source>%1 requests left</source>
        <translation>%1 Anfragen übrig</translation>
    </message>
    <message>
        <source>%1 tokens left</source>
        <translation>%1 Tokens übrig</translation>
    </message>
    <message>
        <source>%1 of %2 in flight</source>
        <translation>%1 von %2 laufend</translation>
    </message>
    <message>
        <source>%1 in flight</source>
        <translation>%1 laufend</translation>
    </message>
    <message>
        <source>nothing learned yet</source>
        <translation>noch nichts bekannt</translation>
    </message>
    <message>
        <source> · </source>
        <translation> · </translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>Zurücksetzen</translation>
    </message>
    <message>
        <source>Reset the limits of %1</source>
        <translation>Limits von %1 zurücksetzen</translation>
    </message>
    <message>
        <source>Forget what 429chain knows about this entry&apos;s limits and try it again</source>
        <translation>Vergessen, was 429chain über die Limits dieses Eintrags weiß, und ihn wieder versuchen</translation>
    </message>
    <message>
        <source>ready</source>
        <translation>bereit</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message>
        <source>Until %1</source>
        <translation>Bis %1</translation>
    </message>
</context>
<context>
    <name>RequestCsv</name>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>The export to %1 was cancelled: 429chain is closing.</source>
        <translation>Der Export nach %1 wurde abgebrochen: 429chain wird beendet.</translation>
    </message>
</context>
<context>
    <name>RequestDetailView</name>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Chain</source>
        <translation>Kette</translation>
    </message>
    <message>
        <source>Served by</source>
        <translation>Beantwortet von</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Latency</source>
        <translation>Latenz</translation>
    </message>
    <message>
        <source>First token</source>
        <translation>Erstes Token</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>Client key</source>
        <translation>Client-Schlüssel</translation>
    </message>
    <message>
        <source>Select a request to see its attempts.</source>
        <translation>Wählen Sie eine Anfrage, um ihre Versuche zu sehen.</translation>
    </message>
    <message>
        <source>Request #%1</source>
        <translation>Anfrage #%1</translation>
    </message>
    <message>
        <source>Request (being written to the log)</source>
        <translation>Anfrage (wird ins Protokoll geschrieben)</translation>
    </message>
    <message>
        <source>whole answer, not streamed</source>
        <translation>ganze Antwort, nicht gestreamt</translation>
    </message>
    <message>
        <source>%1 prompt + %2 completion = %3%4</source>
        <translation>%1 Prompt + %2 Antwort = %3%4</translation>
    </message>
    <message>
        <source> (estimated)</source>
        <translation> (geschätzt)</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>Fehler: %1</translation>
    </message>
    <message>
        <source>Attempts (%1)</source>
        <translation>Versuche (%1)</translation>
    </message>
</context>
<context>
    <name>RequestLogModel</name>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Chain</source>
        <translation>Kette</translation>
    </message>
    <message>
        <source>Provider / model</source>
        <translation>Anbieter / Modell</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Latency</source>
        <translation>Latenz</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>Versuche</translation>
    </message>
    <message>
        <source>%1 (estimated: the provider sent no usage)</source>
        <translation>%1 (geschätzt: der Anbieter hat keine Nutzung gemeldet)</translation>
    </message>
</context>
<context>
    <name>ServiceBridge</name>
    <message>
        <source>There is no provider &quot;%1&quot;.</source>
        <translation>Es gibt keinen Anbieter „%1“.</translation>
    </message>
    <message>
        <source>There is no chain &quot;%1&quot;.</source>
        <translation>Es gibt keine Kette „%1“.</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>&amp;Apply</source>
        <translation>&amp;Übernehmen</translation>
    </message>
    <message>
        <source>Apply the settings</source>
        <translation>Die Einstellungen übernehmen</translation>
    </message>
    <message>
        <source>Re&amp;vert</source>
        <translation>&amp;Zurücksetzen</translation>
    </message>
    <message>
        <source>Revert to the saved settings</source>
        <translation>Zu den gespeicherten Einstellungen zurückkehren</translation>
    </message>
    <message>
        <source>Settings are saved to the config file and applied at once, except those marked &quot;after restart&quot;.</source>
        <translation>Einstellungen werden in der Konfigurationsdatei gespeichert und sofort angewendet, außer denen mit „nach Neustart“.</translation>
    </message>
    <message>
        <source>Routing</source>
        <translation>Weiterleitung</translation>
    </message>
    <message>
        <source>Default chain</source>
        <translation>Standardkette</translation>
    </message>
    <message>
        <source>Default cooldown</source>
        <translation>Standard-Pause</translation>
    </message>
    <message>
        <source> ms</source>
        <translation> ms</translation>
    </message>
    <message>
        <source>Request timeout</source>
        <translation>Anfrage-Zeitlimit</translation>
    </message>
    <message>
        <source>Stream idle timeout</source>
        <translation>Zeitlimit für stille Streams</translation>
    </message>
    <message>
        <source>Mid-stream failures before a cooldown</source>
        <translation>Abbrüche im Stream vor einer Pause</translation>
    </message>
    <message>
        <source>First mid-stream cooldown</source>
        <translation>Erste Pause nach Stream-Abbrüchen</translation>
    </message>
    <message>
        <source>Longest mid-stream cooldown</source>
        <translation>Längste Pause nach Stream-Abbrüchen</translation>
    </message>
    <message>
        <source>Queue mode</source>
        <translation>Warteschlange</translation>
    </message>
    <message>
        <source>&amp;Queue requests while their chain is exhausted (instead of answering 429)</source>
        <translation>A&amp;nfragen in die Warteschlange stellen, solange ihre Kette erschöpft ist (statt 429 zu antworten)</translation>
    </message>
    <message>
        <source>Longest wait in the queue</source>
        <translation>Längste Wartezeit in der Warteschlange</translation>
    </message>
    <message>
        <source>Queue size per chain</source>
        <translation>Warteschlangengröße pro Kette</translation>
    </message>
    <message>
        <source>Server and request log</source>
        <translation>Server und Anfrageprotokoll</translation>
    </message>
    <message>
        <source>Bind address</source>
        <translation>Bind-Adresse</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>Port</translation>
    </message>
    <message>
        <source>Log level</source>
        <translation>Log-Stufe</translation>
    </message>
    <message>
        <source>Request log database</source>
        <translation>Datenbank des Anfrageprotokolls</translation>
    </message>
    <message>
        <source>Keep the request log</source>
        <translation>Anfrageprotokoll aufbewahren</translation>
    </message>
    <message>
        <source> days</source>
        <translation> Tage</translation>
    </message>
    <message>
        <source>Largest request body</source>
        <translation>Größter Anfrage-Body</translation>
    </message>
    <message>
        <source> bytes</source>
        <translation> Bytes</translation>
    </message>
    <message>
        <source>CORS origins, one per line</source>
        <translation>CORS-Origins, einer pro Zeile</translation>
    </message>
    <message>
        <source>None: browsers on other sites cannot call the proxy</source>
        <translation>Keine: Browser auf anderen Websites können den Proxy nicht aufrufen</translation>
    </message>
    <message>
        <source>%1 (no such chain)</source>
        <translation>%1 (keine solche Kette)</translation>
    </message>
    <message>
        <source>Running on %1:%2 now. Settings marked &quot;after restart&quot; are saved to the file and used from the next start.</source>
        <translation>Läuft jetzt auf %1:%2. Einstellungen mit „nach Neustart“ werden in der Datei gespeichert und ab dem nächsten Start verwendet.</translation>
    </message>
    <message>
        <source>Settings not saved: %1</source>
        <translation>Einstellungen nicht gespeichert: %1</translation>
    </message>
    <message>
        <source>The form shows the saved settings again.</source>
        <translation>Das Formular zeigt wieder die gespeicherten Einstellungen.</translation>
    </message>
    <message>
        <source>Allowed host names, one per line</source>
        <translation>Erlaubte Hostnamen, einer pro Zeile</translation>
    </message>
    <message>
        <source>None besides loopback names and the address listened on</source>
        <translation>Keine außer Loopback-Namen und der Adresse, auf der gelauscht wird</translation>
    </message>
    <message>
        <source>%1 (after restart):</source>
        <translation>%1 (nach Neustart):</translation>
    </message>
    <message>
        <source>%1:</source>
        <translation>%1:</translation>
    </message>
    <message>
        <source>De&amp;fault chain</source>
        <translation>S&amp;tandardkette</translation>
    </message>
    <message>
        <source>Request &amp;timeout</source>
        <translation>Anfrage-Zeitl&amp;imit</translation>
    </message>
    <message>
        <source>Stream &amp;idle timeout</source>
        <translation>Zeitlimit für &amp;stille Streams</translation>
    </message>
    <message>
        <source>&amp;Normalize responses (move reasoning_content into an empty content)</source>
        <translation>Antworten &amp;vereinheitlichen (reasoning_content in einen leeren content verschieben)</translation>
    </message>
    <message>
        <source>Longest &amp;wait</source>
        <translation>Längste &amp;Wartezeit</translation>
    </message>
    <message>
        <source>Queue si&amp;ze per chain</source>
        <translation>Warteschlangen&amp;größe pro Kette</translation>
    </message>
    <message>
        <source>&amp;Bind address</source>
        <translation>&amp;Bind-Adresse</translation>
    </message>
    <message>
        <source>&amp;Port</source>
        <translation>&amp;Port</translation>
    </message>
    <message>
        <source>&amp;Log level</source>
        <translation>&amp;Log-Stufe</translation>
    </message>
    <message>
        <source>Request log &amp;database</source>
        <translation>&amp;Datenbank des Anfrageprotokolls</translation>
    </message>
    <message>
        <source>&amp;Keep the request log</source>
        <translation>Anfrageprotokoll &amp;aufbewahren</translation>
    </message>
    <message>
        <source>Largest request &amp;body</source>
        <translation>Größter Anfrage-Bod&amp;y</translation>
    </message>
    <message>
        <source>CORS &amp;origins (one per line)</source>
        <translation>CORS-&amp;Origins (einer pro Zeile)</translation>
    </message>
    <message>
        <source>Allowed &amp;host names (one per line)</source>
        <translation>Erlaubte &amp;Hostnamen (einer pro Zeile)</translation>
    </message>
</context>
<context>
    <name>StatCard</name>
    <message>
        <source>%1: %2. %3</source>
        <translation>%1: %2. %3</translation>
    </message>
</context>
<context>
    <name>StatusBanner</name>
    <message>
        <source>Dismiss</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Dismiss the message</source>
        <translation>Die Meldung schließen</translation>
    </message>
    <message>
        <source>Error: </source>
        <translation>Fehler: </translation>
    </message>
    <message>
        <source>Done: </source>
        <translation>Erledigt: </translation>
    </message>
</context>
<context>
    <name>StorageUrl</name>
    <message>
        <source>must be &quot;sqlite&quot; or a URL postgresql://user:password@host:port/database (got %1)</source>
        <translation>muss „sqlite“ oder eine URL postgresql://benutzer:passwort@host:port/datenbank sein (war %1)</translation>
    </message>
    <message>
        <source>%1 names no host</source>
        <translation>%1 nennt keinen Host</translation>
    </message>
    <message>
        <source>%1 has no valid port</source>
        <translation>%1 hat keinen gültigen Port</translation>
    </message>
    <message>
        <source>%1 names no user (postgresql://user:password@host/database)</source>
        <translation>%1 nennt keinen Benutzer (postgresql://benutzer:passwort@host/datenbank)</translation>
    </message>
    <message>
        <source>%1 names no database (postgresql://user:password@host/database)</source>
        <translation>%1 nennt keine Datenbank (postgresql://benutzer:passwort@host/datenbank)</translation>
    </message>
    <message>
        <source>%1 has a fragment (#…), which means nothing here</source>
        <translation>%1 hat ein Fragment (#…), das hier nichts bedeutet</translation>
    </message>
    <message>
        <source>%1: unknown connection option &quot;%2&quot; (known: %3)</source>
        <translation>%1: unbekannte Verbindungsoption „%2“ (bekannt: %3)</translation>
    </message>
    <message>
        <source>%1: option &quot;%2&quot; must not contain &apos;;&apos;</source>
        <translation>%1: Option „%2“ darf kein „;“ enthalten</translation>
    </message>
</context>
<context>
    <name>TestPromptPage</name>
    <message>
        <source>%1 prompt + %2 completion = %3</source>
        <translation>%1 Prompt + %2 Antwort = %3</translation>
    </message>
    <message>
        <source>%1 (estimated)</source>
        <translation>%1 (geschätzt)</translation>
    </message>
    <message>
        <source>Test prompt</source>
        <translation>Testanfrage</translation>
    </message>
    <message>
        <source>Chain</source>
        <translation>Kette</translation>
    </message>
    <message>
        <source>The model name a client sends picks the chain.</source>
        <translation>Der Modellname, den ein Client sendet, wählt die Kette.</translation>
    </message>
    <message>
        <source>No chains yet — create one on the Chains page first.</source>
        <translation>Noch keine Ketten — legen Sie zuerst auf der Seite Ketten eine an.</translation>
    </message>
    <message>
        <source>&amp;Chain:</source>
        <translation>&amp;Kette:</translation>
    </message>
    <message>
        <source>System prompt (optional)</source>
        <translation>Systemprompt (optional)</translation>
    </message>
    <message>
        <source>Optional, e.g. You are a helpful assistant.</source>
        <translation>Optional, z. B. Du bist ein hilfreicher Assistent.</translation>
    </message>
    <message>
        <source>S&amp;ystem prompt:</source>
        <translation>S&amp;ystemprompt:</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>Prompt</translation>
    </message>
    <message>
        <source>Write a prompt, then press Ctrl+Enter to send it.</source>
        <translation>Schreiben Sie einen Prompt und senden Sie ihn mit Strg+Eingabe.</translation>
    </message>
    <message>
        <source>Hello! Who are you, in two sentences?</source>
        <translation>Hallo! Wer bist du, in zwei Sätzen?</translation>
    </message>
    <message>
        <source>&amp;Prompt:</source>
        <translation>&amp;Prompt:</translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation>&amp;Senden</translation>
    </message>
    <message>
        <source>Send the prompt through the chain (Ctrl+Enter)</source>
        <translation>Den Prompt durch die Kette senden (Strg+Eingabe)</translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation>S&amp;topp</translation>
    </message>
    <message>
        <source>Cancel the answer (Esc)</source>
        <translation>Die Antwort abbrechen (Esc)</translation>
    </message>
    <message>
        <source>Test &amp;whole chain</source>
        <translation>&amp;Ganze Kette testen</translation>
    </message>
    <message>
        <source>Ask every entry of the chain once, outside the waterfall and its limits</source>
        <translation>Jeden Eintrag der Kette einmal fragen, außerhalb der Weiterleitung und ihrer Limits</translation>
    </message>
    <message>
        <source>Answer</source>
        <translation>Antwort</translation>
    </message>
    <message>
        <source>The answer appears here as it streams in.</source>
        <translation>Die Antwort erscheint hier, während sie eintrifft.</translation>
    </message>
    <message>
        <source>Reasoning</source>
        <translation>Überlegung</translation>
    </message>
    <message>
        <source>Served by</source>
        <translation>Beantwortet von</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>Versuche</translation>
    </message>
    <message>
        <source>First token</source>
        <translation>Erstes Token</translation>
    </message>
    <message>
        <source>Latency</source>
        <translation>Latenz</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>Test whole chain asks every entry of the chosen chain once and shows how each one answered.</source>
        <translation>Ganze Kette testen fragt jeden Eintrag der gewählten Kette einmal und zeigt, wie jeder geantwortet hat.</translation>
    </message>
    <message>
        <source>Entry results</source>
        <translation>Ergebnisse je Eintrag</translation>
    </message>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Provider</source>
        <translation>Anbieter</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Ergebnis</translation>
    </message>
    <message>
        <source>Answer or error</source>
        <translation>Antwort oder Fehler</translation>
    </message>
    <message>
        <source>&amp;Answer</source>
        <translation>&amp;Antwort</translation>
    </message>
    <message>
        <source>Whole &amp;chain</source>
        <translation>Ganze &amp;Kette</translation>
    </message>
    <message>
        <source>Type a prompt first.</source>
        <translation>Geben Sie zuerst einen Prompt ein.</translation>
    </message>
    <message>
        <source>Waiting for the first token…</source>
        <translation>Warten auf das erste Token…</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>Wird gestoppt…</translation>
    </message>
    <message>
        <source>Streaming…</source>
        <translation>Wird gestreamt…</translation>
    </message>
    <message>
        <source>nobody (last tried: %1)</source>
        <translation>niemand (zuletzt versucht: %1)</translation>
    </message>
    <message>
        <source>nobody</source>
        <translation>niemand</translation>
    </message>
    <message>
        <source>%1 (waterfall: earlier entries were skipped)</source>
        <translation>%1 (Weiterleitung: frühere Einträge wurden übersprungen)</translation>
    </message>
    <message>
        <source>Stopped. The upstream call was cancelled.</source>
        <translation>Gestoppt. Der Aufruf beim Anbieter wurde abgebrochen.</translation>
    </message>
    <message>
        <source>Failed (%1): %2</source>
        <translation>Fehlgeschlagen (%1): %2</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>Fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Done.</source>
        <translation>Fertig.</translation>
    </message>
    <message>
        <source>Testing every entry of %1…</source>
        <translation>Jeder Eintrag von %1 wird getestet…</translation>
    </message>
    <message>
        <source>Could not test %1: %2</source>
        <translation>%1 konnte nicht getestet werden: %2</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>%1 has no entries to test.</source>
        <translation>%1 hat keine Einträge zum Testen.</translation>
    </message>
    <message>
        <source>%1: %2 of %3 entries answered.</source>
        <translation>%1: %2 von %3 Einträgen haben geantwortet.</translation>
    </message>
</context>
<context>
    <name>TokenChart</name>
    <message>
        <source>Tokens over time</source>
        <translation>Tokens im Zeitverlauf</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>%1 hours</source>
        <translation>%1 Stunden</translation>
    </message>
    <message>
        <source>%1 days</source>
        <translation>%1 Tage</translation>
    </message>
    <message>
        <source>%1 tokens over %2 (%3)</source>
        <translation>%1 Tokens in %2 (%3)</translation>
    </message>
    <message>
        <source>, </source>
        <translation>, </translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>(keiner)</translation>
    </message>
    <message>
        <source>No tokens in this period yet. Send a prompt from Test prompt or any OpenAI client and it shows up here.</source>
        <translation>Noch keine Tokens in diesem Zeitraum. Senden Sie einen Prompt über Testanfrage oder einen beliebigen OpenAI-Client, dann erscheint er hier.</translation>
    </message>
    <message>
        <source>No tokens in this period yet.</source>
        <translation>Noch keine Tokens in diesem Zeitraum.</translation>
    </message>
    <message>
        <source>%1: %2 tokens</source>
        <translation>%1: %2 Tokens</translation>
    </message>
</context>
<context>
    <name>TrayIcon</name>
    <message>
        <source>&amp;Open 429chain</source>
        <translation>429chain ö&amp;ffnen</translation>
    </message>
    <message>
        <source>Copy &amp;base URL</source>
        <translation>&amp;Basis-URL kopieren</translation>
    </message>
    <message>
        <source>Copy API &amp;key</source>
        <translation>API-&amp;Schlüssel kopieren</translation>
    </message>
    <message>
        <source>Start at &amp;login</source>
        <translation>Bei der &amp;Anmeldung starten</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>429chain — %1</source>
        <translation>429chain — %1</translation>
    </message>
    <message>
        <source>Today: %1 requests, %2 tokens</source>
        <translation>Heute: %1 Anfragen, %2 Tokens</translation>
    </message>
    <message>
        <source>Today: no request log, no totals</source>
        <translation>Heute: kein Anfrageprotokoll, keine Summen</translation>
    </message>
    <message>
        <source>&amp;Resume proxy</source>
        <translation>Proxy &amp;fortsetzen</translation>
    </message>
    <message>
        <source>&amp;Pause proxy</source>
        <translation>Proxy &amp;pausieren</translation>
    </message>
    <message>
        <source>No provider of chain &quot;%1&quot; has quota left; requests to it fail.</source>
        <translation>Kein Anbieter der Kette „%1“ hat noch Kontingent; Anfragen an sie schlagen fehl.</translation>
    </message>
    <message>
        <source>The first entry frees up at %1.</source>
        <translation>Der erste Eintrag wird um %1 wieder frei.</translation>
    </message>
    <message>
        <source>Chain &quot;%1&quot; ran dry</source>
        <translation>Kette „%1“ ist erschöpft</translation>
    </message>
    <message>
        <source>Chain &quot;%1&quot; is serving again</source>
        <translation>Kette „%1“ antwortet wieder</translation>
    </message>
    <message>
        <source>Requests to &quot;%1&quot; are answered again.</source>
        <translation>Anfragen an „%1“ werden wieder beantwortet.</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>429chain</source>
        <translation>429chain</translation>
    </message>
</context>
</TS>
