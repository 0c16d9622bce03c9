import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type CountryResponse } from 'maxmind';

// ip-location-db records carry country_code; MaxMind's carry country.iso_code.
type GeoRecord = CountryResponse & { country_code?: string };

/**
 * Country lookup from an .mmdb file held in memory: GEOIP_DB when set (a
 * MaxMind-format country or city database), else the bundled country data.
 */
export function openGeo(path: string | undefined): (ip: string) => string | null {
  const file = path ?? createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
  const reader = new Reader<GeoRecord>(readFileSync(file));
  return (ip) => {
    try {
      const r = reader.get(ip);
      const code = r?.country_code ?? r?.country?.iso_code;
      return code ? code.toUpperCase() : null;
    } catch {
      return null; // not an IP address
    }
  };
}
