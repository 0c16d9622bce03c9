import { useEffect } from 'preact/hooks';
import { refusal } from '../access';
import { sectionsFor } from '../settings/frame';
import { Refused } from '../ui/status';

// Settings: the index of its sections, each its own view (and chunk).
export default function Settings() {
  useEffect(() => void (document.title = 'Settings · Leadline'), []);
  const sections = sectionsFor();
  return (
    <section class="settings">
      <h1 tabIndex={-1}>Settings</h1>
      {sections.length === 0 && <Refused message={refusal('settings', 'change')} />}
      <ul class="report-list" hidden={sections.length === 0}>
        {sections.map((s) => (
          <li>
            <a href={s.href}>
              <strong>{s.label}</strong>
              <span class="hint block">{s.about}</span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
