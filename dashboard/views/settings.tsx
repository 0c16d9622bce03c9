import { useEffect } from 'preact/hooks';
import { SECTIONS } from '../settings/frame';

// Settings: the index of its sections, each its own view (and chunk).
export default function Settings() {
  useEffect(() => void (document.title = 'Settings · Leadline'), []);
  return (
    <section class="settings">
      <h1 tabIndex={-1}>Settings</h1>
      <ul class="report-list">
        {SECTIONS.map((s) => (
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
