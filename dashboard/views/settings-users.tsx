import { useState } from 'preact/hooks';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { currentSession } from '../auth';
import { SettingsFrame } from '../settings/frame';
import { allPages, Confirm, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Settings → Users and roles (admins only): who may sign in, with which role. Invitations go out
// by email (the outbox without an email provider); the server refuses to demote or remove the
// last admin, and its message is shown as it is.

type User = components['schemas']['User'];
type Role = User['role'];

const ROLES: { value: Role; label: string; about: string }[] = [
  { value: 'viewer', label: 'Viewer', about: 'sees everything but users, API keys, jobs and CRM integrations; changes nothing' },
  { value: 'sales', label: 'Sales', about: 'also changes contacts, companies and deals, and gives sales feedback' },
  { value: 'marketer', label: 'Marketer', about: 'everything but users, API keys, jobs and CRM integrations' },
  { value: 'admin', label: 'Admin', about: 'everything' },
];

function Invite({ onInvited }: { onInvited: (u: User) => void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('marketer');
  const saver = useSaver();
  return (
    <form
      class="stack card"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const to = email.trim();
        const u = await saver.run(() => send(api.POST('/api/v1/users', { body: { email: to, role } })), (u) => `Invitation sent to ${u.email}.`);
        if (u) {
          setEmail('');
          onInvited(u);
        }
      }}
    >
      <h2>Invite someone</h2>
      <div class="form-grid">
        <Field id="invite-email" label="Email" error={saver.fieldError('email')}>
          {(a) => <input {...a} type="email" autocomplete="off" required maxLength={254} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}
        </Field>
        <Field id="invite-role" label="Role" hint={ROLES.find((r) => r.value === role)?.about} error={saver.fieldError('role')}>
          {(a) => (
            <select {...a} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
              {ROLES.map((r) => (
                <option value={r.value}>{r.label}</option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <p class="hint">They get an email with a link (valid 7 days, works once) to choose their name and password.</p>
      <div class="actions">
        <button type="submit" disabled={saver.busy}>
          {saver.busy ? 'Sending…' : 'Send invitation'}
        </button>
      </div>
      <SaveStatus status={saver.status} shown={['email', 'role']} />
    </form>
  );
}

function RoleCell({ user, busy, onChange }: { user: User; busy: boolean; onChange: (role: Role) => void }) {
  const [role, setRole] = useState<Role>(user.role);
  const id = `role-${user.id}`;
  return (
    <div class="actions">
      <label class="sr-only" for={id}>
        Role of {user.name || user.email}
      </label>
      <select id={id} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
        {ROLES.map((r) => (
          <option value={r.value}>{r.label}</option>
        ))}
      </select>
      {role !== user.role && (
        <button type="button" class="secondary small" disabled={busy} onClick={() => onChange(role)}>
          Change role<span class="sr-only"> of {user.name || user.email}</span>
        </button>
      )}
    </div>
  );
}

export default function UsersSettings() {
  const list = useLoad(() => allPages<User>((cursor) => load(api.GET('/api/v1/users', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }))), 'users');
  const [users, setUsers] = useState<User[] | null>(null);
  const [removing, setRemoving] = useState<User | null>(null);
  // Bumped after a refused change, so the role pickers show the stored roles again.
  const [version, setVersion] = useState(0);
  const act = useSaver();
  const shown = users ?? (list.state === 'done' ? list.data : null);
  const me = currentSession();
  const myId = me.state === 'signed-in' ? me.user.id : null;
  const replace = (u: User) => shown && setUsers(shown.map((x) => (x.id === u.id ? u : x)));
  const who = (u: User) => u.name || u.email;

  const changeRole = async (u: User, role: Role) => {
    const r = await act.run(() => send(api.PATCH('/api/v1/users/{id}', { params: { path: { id: u.id } }, body: { role } })), (r) => `${who(r)} is now ${r.role}.`);
    if (r) replace(r);
    else setVersion((v) => v + 1);
  };
  const resend = async (u: User) => {
    const r = await act.run(() => send(api.POST('/api/v1/users/{id}/invitation', { params: { path: { id: u.id } } })), (r) => `Invitation sent to ${r.email} again.`);
    if (r) replace(r);
  };

  return (
    <SettingsFrame title="Users and roles" intro="People who sign in to this dashboard, and what their role lets them do. API keys are separate (Settings → API keys).">
      <Invite onInvited={(u) => setUsers([...(shown ?? []), u])} />
      <h2>Users</h2>
      <dl class="roles-help">
        {ROLES.map((r) => (
          <div>
            <dt>{r.label}</dt>
            <dd>{r.about}</dd>
          </div>
        ))}
      </dl>
      {list.state === 'loading' && <Loading what="users" />}
      {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
      <SaveStatus status={act.status} />
      {removing && (
        <Confirm
          question={<>Remove {who(removing)} ({removing.email})? They are signed out at once and can no longer sign in.</>}
          yes="Remove user"
          busy={act.busy}
          onNo={() => setRemoving(null)}
          onYes={async () => {
            const u = removing;
            const r = await act.run(() => send(api.DELETE('/api/v1/users/{id}', { params: { path: { id: u.id } } })), `${who(u)} removed.`);
            if (r && shown) setUsers(shown.filter((x) => x.id !== u.id));
            setRemoving(null);
          }}
        />
      )}
      {shown && (
        <div class="table-wrap" role="region" aria-label="Users" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((u) => (
                <tr key={`${u.id}-${u.role}-${version}`}>
                  <th scope="row">
                    {u.name || <span class="hint">(no name yet)</span>}
                    {u.id === myId && <span class="hint"> (you)</span>}
                  </th>
                  <td>{u.email}</td>
                  <td>
                    <RoleCell user={u} busy={act.busy} onChange={(role) => changeRole(u, role)} />
                  </td>
                  <td>{u.invited ? <span class="badge">invited, not accepted yet</span> : u.last_login_at ? formatDateTime(u.last_login_at) : 'never'}</td>
                  <td>
                    <div class="actions">
                      {u.invited && (
                        <button type="button" class="secondary small" disabled={act.busy} onClick={() => resend(u)}>
                          Resend invitation<span class="sr-only"> to {u.email}</span>
                        </button>
                      )}
                      <button type="button" class="secondary small danger-text" onClick={() => (act.reset(), setRemoving(u))}>
                        Remove<span class="sr-only"> {who(u)}</span>
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </SettingsFrame>
  );
}
