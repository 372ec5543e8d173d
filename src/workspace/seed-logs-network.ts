import type { KqlValue } from "../kql/types.js";
import { type DetailRandom, rowOf, workspaceTenantId } from "./seed-logs-rows.js";
import { ATTACKER_IP, DOMAIN, HOST_IPS, HOSTS, USERS } from "./seed-tenant.js";

// The perimeter firewall's CEF events (CommonSecurityLog): a Palo Alto Networks PAN-OS firewall forwarding TRAFFIC
// and THREAT logs through a CEF collector, with the columns and values the PAN-OS CEF mapping produces. Includes the
// planted command-and-control beaconing from WS-ADELE01 to the spray source after the encoded PowerShell run.

const DESTINATIONS = [
  { ip: "52.96.88.130", host: "outlook.office365.com", port: 443, app: "ms-office365-base" },
  { ip: "13.107.42.14", host: "contoso.sharepoint.com", port: 443, app: "sharepoint-online" },
  { ip: "142.250.185.78", host: "www.google.com", port: 443, app: "google-base" },
  { ip: "52.112.0.10", host: "teams.microsoft.com", port: 443, app: "ms-teams" },
  { ip: "8.8.8.8", host: "", port: 53, app: "dns" },
  { ip: "93.184.215.14", host: "example.com", port: 80, app: "web-browsing" },
];

/** What the seed decided about one firewall event. */
interface FlowFacts {
  seed: number;
  time: number;
  host: string;
  user: string;
  dest: { ip: string; host: string; port: number; app: string };
  action: "allow" | "deny";
  sent: number;
  received: number;
  srcPort: number;
  sessionId: number;
  rule: string;
}

function flowRow(f: FlowFacts): KqlValue[] {
  const udp = f.dest.port === 53;
  return rowOf("CommonSecurityLog", {
    TimeGenerated: f.time,
    DeviceVendor: "Palo Alto Networks",
    DeviceProduct: "PAN-OS",
    DeviceVersion: "10.2.7",
    DeviceEventClassID: "end",
    Activity: "TRAFFIC",
    LogSeverity: "1",
    DeviceAction: f.action,
    ApplicationProtocol: f.dest.app,
    EventCount: 1,
    CommunicationDirection: "Outbound",
    DeviceInboundInterface: "ethernet1/2",
    DeviceOutboundInterface: "ethernet1/1",
    DeviceName: "PA-EDGE01",
    DeviceExternalID: "013201001234",
    DestinationIP: f.dest.ip,
    DestinationPort: f.dest.port,
    DestinationHostName: f.dest.host,
    DestinationTranslatedAddress: f.dest.ip,
    DestinationTranslatedPort: f.dest.port,
    SourceIP: HOST_IPS[f.host] ?? "10.20.1.250",
    SourcePort: f.srcPort,
    SourceTranslatedAddress: "198.51.100.20",
    SourceTranslatedPort: 20_000 + (f.srcPort % 40_000),
    SourceHostName: f.host,
    SourceUserName: `${DOMAIN.split(".")[0]}\\${f.user}`,
    Protocol: udp ? "udp" : "tcp",
    SentBytes: f.sent,
    ReceivedBytes: f.received,
    ReceiptTime: new Date(f.time).toUTCString(),
    DeviceCustomString1: f.rule,
    DeviceCustomString1Label: "Rule",
    DeviceCustomString4: "trust",
    DeviceCustomString4Label: "FromZone",
    DeviceCustomString5: "untrust",
    DeviceCustomString5Label: "ToZone",
    DeviceCustomNumber1: f.sessionId,
    DeviceCustomNumber1Label: "SessionID",
    FieldDeviceCustomNumber1: f.sessionId,
    AdditionalExtensions: `PanOSPacketsReceived=${Math.ceil(f.received / 1400)};PanOSPacketsSent=${Math.ceil(f.sent / 1400)}`,
    Computer: "cef-collector01",
    CollectorHostName: "cef-collector01",
    SourceSystem: "OpsManager",
    SimplifiedDeviceAction: f.action === "allow" ? "Allow" : "Deny",
    TenantId: workspaceTenantId(f.seed),
    Type: "CommonSecurityLog",
  });
}

/** Background firewall traffic of the office, then the planted beaconing (every ~60 s for 20 minutes). */
export function firewallRows(
  seed: number,
  now: number,
  count: number,
  beaconStart: number,
  r: DetailRandom,
): KqlValue[][] {
  const rows: KqlValue[][] = [];
  let session = 40_000;
  for (let i = 0; i < count; i++) {
    const dest = r.pick(DESTINATIONS);
    const deny = r.rand() < 0.04;
    rows.push(
      flowRow({
        seed,
        time: now - Math.floor(r.rand() * 7 * 86_400_000),
        host: r.pick(HOSTS),
        user: r.pick(USERS),
        dest,
        action: deny ? "deny" : "allow",
        sent: deny ? 0 : 500 + Math.floor(r.rand() * 20_000),
        received: deny ? 0 : 1_000 + Math.floor(r.rand() * 2_000_000),
        srcPort: 49_152 + Math.floor(r.rand() * 16_000),
        sessionId: session++,
        rule: deny ? "deny-uncategorized" : "allow-outbound-web",
      }),
    );
  }
  for (let i = 0; i < 20; i++)
    rows.push(
      flowRow({
        seed,
        time: beaconStart + i * 60_000 + Math.floor(r.rand() * 5_000),
        host: "WS-ADELE01",
        user: "adele.vance",
        dest: { ip: ATTACKER_IP, host: "", port: 443, app: "ssl" },
        action: "allow",
        sent: 2_000 + Math.floor(r.rand() * 800),
        received: 300 + Math.floor(r.rand() * 200),
        srcPort: 49_152 + Math.floor(r.rand() * 16_000),
        sessionId: session++,
        rule: "allow-outbound-web",
      }),
    );
  return rows;
}
