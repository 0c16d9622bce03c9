import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type CountryResponse } from 'maxmind';
import { StartError } from './start-error';

// ip-location-db records carry country_code; MaxMind's carry country.iso_code.
type GeoRecord = CountryResponse & { country_code?: string };

/**
 * Country lookup from an .mmdb file held in memory: GEOIP_DB when set (a
 * MaxMind-format country or city database), else the bundled country data.
 * A GEOIP_DB that cannot be used stops the start (StartError) rather than
 * silently storing no countries.
 */
export function openGeo(path: string | undefined): (ip: string) => string | null {
  const file = path ?? createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
  let reader: Reader<GeoRecord>;
  try {
    reader = new Reader<GeoRecord>(readFile(file, path));
  } catch (e) {
    if (e instanceof StartError) throw e;
    throw new StartError(`GEOIP_DB=${file}`, 'is not a MaxMind database (.mmdb).');
  }
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

function readFile(file: string, setting: string | undefined): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT' ? 'does not exist.' : code === 'EISDIR' ? 'is a directory, not an .mmdb file.' : `cannot be read (${code ?? String(e)}).`;
    // Unset, the file is the bundled one: a broken install, not a bad setting.
    throw new StartError(setting === undefined ? `GEOIP_DB (unset: the bundled ${file})` : `GEOIP_DB=${file}`, problem);
  }
}
