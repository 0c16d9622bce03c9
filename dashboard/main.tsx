import { render, Component, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso/router';
import lazy from 'preact-iso/lazy';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import './contacts.css';
import './emails.css';
import './campaigns.css';
import './focus.css';
import './pages.css';
import { checkSession, currentSession, onSession, type Session } from './auth';
import { Shell } from './shell';
import { can, refusal, type Action, type Area } from './access';
import { ForgotPasswordPage, ResetPasswordPage, SetupPage, SignInPage } from './sign-in';
import { Loading, Refused } from './ui/status';
// Before the router starts: an editor with unsaved changes hears of Back and Forward first.
import './ui/leave-guard';

// Each view is its own chunk, fetched the first time it is shown.
const Home = lazy(() => import('./views/home'));
const Reports = lazy(() => import('./views/reports'));
const Contacts = lazy(() => import('./views/contacts'));
const ContactsImport = lazy(() => import('./views/contacts-import'));
const ContactPage = lazy(() => import('./views/contact'));
const Segments = lazy(() => import('./views/segments'));
const Forms = lazy(() => import('./views/forms'));
const FocusItems = lazy(() => import('./views/focus-items'));
const Pages = lazy(() => import('./views/pages'));
const Slots = lazy(() => import('./views/slots'));
const Settings = lazy(() => import('./views/settings'));
const SitesSettings = lazy(() => import('./views/settings-sites'));
const ApiKeysSettings = lazy(() => import('./views/settings-api-keys'));
const StagesSettings = lazy(() => import('./views/settings-stages'));
const PointsSettings = lazy(() => import('./views/settings-points'));
const EmailSettings = lazy(() => import('./views/settings-email'));
const UsersSettings = lazy(() => import('./views/settings-users'));
const WebhooksSettings = lazy(() => import('./views/settings-webhooks'));

/**
 * A view only some roles may use: others get a page saying what their role lacks (in the server's
 * words), and the view's chunk is not even loaded.
 */
function gated<P extends object>(View: (p: P) => preact.JSX.Element | null, title: string, area: Area, action: Action = 'change') {
  return (props: P) =>
    can(area, action) ? (
      <View {...props} />
    ) : (
      <section>
        <h1 tabIndex={-1}>{title}</h1>
        <Refused message={refusal(area, action)} />
      </section>
    );
}
const SitesPage = gated(SitesSettings, 'Sites', 'sites');
const ApiKeysPage = gated(ApiKeysSettings, 'API keys', 'api-keys');
const StagesPage = gated(StagesSettings, 'Stages', 'scoring');
const PointsPage = gated(PointsSettings, 'Points', 'scoring');
const EmailPage = gated(EmailSettings, 'Email', 'settings');
const UsersPage = gated(UsersSettings, 'Users and roles', 'users');
const WebhooksPage = gated(WebhooksSettings, 'Webhooks', 'webhooks');
const ContactsImportPage = gated(ContactsImport, 'Import contacts', 'contacts');
const Emails = lazy(() => import('./views/emails'));
const EmailReport = lazy(() => import('./views/email-report'));
const Broadcasts = lazy(() => import('./views/broadcasts'));
const Campaigns = lazy(() => import('./views/campaigns'));
const CampaignPage = lazy(() => import('./views/campaign'));

function NotFound() {
  return (
    <section>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is nothing at this address. Go to <a href="/app">Home</a>.
      </p>
    </section>
  );
}

/** A view that failed to load (a network error, a chunk from an older deploy) says so instead of going blank. */
class ViewBoundary extends Component<{ children?: ComponentChildren }, { error: string | null }> {
  state = { error: null as string | null };
  componentDidCatch(e: unknown) {
    // Lazy views suspend by throwing a promise; only real errors end up here.
    if (e instanceof Error) this.setState({ error: e.message });
    else throw e;
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div class="error" role="alert">
        <p>This page could not be loaded: {this.state.error}</p>
        <button type="button" onClick={() => location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}

// The sections' views, by their nav entry: fetched (not shown) once the browser is idle after sign-in,
// and at once when a link is pointed at or focused, so moving between sections does not wait for a
// chunk. A role's nav lists only what it may use, so only those are fetched.
const SECTION_VIEWS: Record<string, { preload: () => Promise<unknown> }> = {
  '/app': Home,
  '/app/contacts': Contacts,
  '/app/segments': Segments,
  '/app/forms': Forms,
  '/app/focus-items': FocusItems,
  '/app/pages': Pages,
  '/app/slots': Slots,
  '/app/emails': Emails,
  '/app/campaigns': Campaigns,
  '/app/reports': Reports,
  '/app/settings': Settings,
};
const preloadSection = (href: string | null | undefined) => void SECTION_VIEWS[href ?? '']?.preload().catch(() => undefined);
const whenIdle = (run: () => void) => ('requestIdleCallback' in window ? requestIdleCallback(run, { timeout: 3000 }) : setTimeout(run, 1000));

function useSession(): Session {
  const [s, set] = useState(currentSession());
  useEffect(() => {
    const off = onSession(set);
    // The answer may have come between the first render and this effect.
    set(currentSession());
    return off;
  }, []);
  return s;
}

function App() {
  const session = useSession();
  const { path, query, route } = useLocation();
  const [loadingView, setLoadingView] = useState(false);
  // Pages for people who are not signed in; the reset link's page works either way.
  const onSignInPage = path === '/app/login' || path === '/app/setup' || path === '/app/forgot-password';
  const onResetPage = path === '/app/reset-password';

  // Signed out anywhere: the sign-in page, remembering where to come back to. Signed in on the
  // sign-in page: where the user was going.
  useEffect(() => {
    if (session.state === 'signed-out' && !onSignInPage && !onResetPage) {
      route(`/app/login${path === '/app' || path === '/app/' ? '' : `?next=${encodeURIComponent(location.pathname + location.search)}`}`, true);
    } else if (session.state === 'signed-in' && onSignInPage) {
      const next = query.next && query.next.startsWith('/app') && !query.next.startsWith('//') ? query.next : '/app';
      route(next, true);
    }
  }, [session.state, path]);

  useEffect(() => {
    const titles: Record<string, string> = {
      '/app/login': 'Sign in',
      '/app/setup': 'Set up your account',
      '/app/forgot-password': 'Reset your password',
      '/app/reset-password': 'Choose a new password',
    };
    if (titles[path]) document.title = `${titles[path]} · Leadline`;
  }, [path]);

  useEffect(() => {
    if (session.state !== 'signed-in') return;
    whenIdle(() => document.querySelectorAll<HTMLAnchorElement>('header nav a').forEach((a) => preloadSection(a.getAttribute('href'))));
    const early = (e: Event) => preloadSection((e.target as Element | null)?.closest?.('header nav a')?.getAttribute('href'));
    document.addEventListener('pointerover', early);
    document.addEventListener('focusin', early);
    return () => {
      document.removeEventListener('pointerover', early);
      document.removeEventListener('focusin', early);
    };
  }, [session.state]);

  if (onResetPage) return <ResetPasswordPage />;
  if (session.state === 'loading') return <Loading what="Leadline" />;
  if (session.state === 'signed-out') {
    return path === '/app/setup' ? <SetupPage /> : path === '/app/forgot-password' ? <ForgotPasswordPage /> : <SignInPage problem={session.problem} />;
  }
  if (onSignInPage) return <Loading what="your dashboard" />;
  return (
    <Shell user={session.user} loading={loadingView}>
      <ViewBoundary>
        <Router
          onLoadStart={() => setLoadingView(true)}
          onLoadEnd={() => setLoadingView(false)}
          onRouteChange={() => requestAnimationFrame(() => document.querySelector<HTMLElement>('main h1')?.focus())}
        >
          <Route path="/app" component={Home} />
          <Route path="/app/contacts" component={Contacts} />
          <Route path="/app/contacts/import" component={ContactsImportPage} />
          <Route path="/app/contacts/:id" component={ContactPage} />
          <Route path="/app/reports" component={Reports} />
          <Route path="/app/reports/:name" component={Reports} />
          <Route path="/app/segments" component={Segments} />
          <Route path="/app/segments/:id" component={Segments} />
          <Route path="/app/forms" component={Forms} />
          <Route path="/app/forms/:id" component={Forms} />
          <Route path="/app/focus-items" component={FocusItems} />
          <Route path="/app/focus-items/:id" component={FocusItems} />
          <Route path="/app/pages" component={Pages} />
          <Route path="/app/pages/:id" component={Pages} />
          <Route path="/app/slots" component={Slots} />
          <Route path="/app/slots/:id" component={Slots} />
          <Route path="/app/emails" component={Emails} />
          <Route path="/app/emails/:id" component={Emails} />
          <Route path="/app/emails/:id/report" component={EmailReport} />
          <Route path="/app/broadcasts" component={Broadcasts} />
          <Route path="/app/broadcasts/:id" component={Broadcasts} />
          <Route path="/app/campaigns" component={Campaigns} />
          <Route path="/app/campaigns/:id" component={CampaignPage} />
          <Route path="/app/settings" component={Settings} />
          <Route path="/app/settings/sites" component={SitesPage} />
          <Route path="/app/settings/api-keys" component={ApiKeysPage} />
          <Route path="/app/settings/stages" component={StagesPage} />
          <Route path="/app/settings/points" component={PointsPage} />
          <Route path="/app/settings/email" component={EmailPage} />
          <Route path="/app/settings/users" component={UsersPage} />
          <Route path="/app/settings/webhooks" component={WebhooksPage} />
          <Route default component={NotFound} />
        </Router>
      </ViewBoundary>
    </Shell>
  );
}

render(
  <LocationProvider scope="/app">
    <App />
  </LocationProvider>,
  document.getElementById('app')!,
);
void checkSession();
