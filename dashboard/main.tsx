import { render, Component, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso/router';
import lazy from 'preact-iso/lazy';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import './contacts.css';
import { checkSession, currentSession, onSession, type Session } from './auth';
import { Shell } from './shell';
import { SetupPage, SignInPage } from './sign-in';
import { Loading } from './ui/status';

// Each view is its own chunk, fetched the first time it is shown.
const Home = lazy(() => import('./views/home'));
const Reports = lazy(() => import('./views/reports'));
const Contacts = lazy(() => import('./views/contacts'));
const ContactsImport = lazy(() => import('./views/contacts-import'));
const ContactPage = lazy(() => import('./views/contact'));
const Segments = lazy(() => import('./views/segments'));
const Forms = lazy(() => import('./views/forms'));
const FocusItems = lazy(() => import('./views/focus'));
const Settings = lazy(() => import('./views/settings'));
const SitesSettings = lazy(() => import('./views/settings-sites'));
const ApiKeysSettings = lazy(() => import('./views/settings-api-keys'));
const StagesSettings = lazy(() => import('./views/settings-stages'));
const PointsSettings = lazy(() => import('./views/settings-points'));
const EmailSettings = lazy(() => import('./views/settings-email'));

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
  const onSignInPage = path === '/app/login' || path === '/app/setup';

  // Signed out anywhere: the sign-in page, remembering where to come back to. Signed in on the
  // sign-in page: where the user was going.
  useEffect(() => {
    if (session.state === 'signed-out' && !onSignInPage) {
      route(`/app/login${path === '/app' || path === '/app/' ? '' : `?next=${encodeURIComponent(location.pathname + location.search)}`}`, true);
    } else if (session.state === 'signed-in' && onSignInPage) {
      const next = query.next && query.next.startsWith('/app') && !query.next.startsWith('//') ? query.next : '/app';
      route(next, true);
    }
  }, [session.state, path]);

  useEffect(() => {
    const titles: Record<string, string> = { '/app/login': 'Sign in', '/app/setup': 'Set up your account' };
    if (titles[path]) document.title = `${titles[path]} · Leadline`;
  }, [path]);

  if (session.state === 'loading') return <Loading what="Leadline" />;
  if (session.state === 'signed-out') {
    return path === '/app/setup' ? <SetupPage /> : <SignInPage problem={session.problem} />;
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
          <Route path="/app/contacts/import" component={ContactsImport} />
          <Route path="/app/contacts/:id" component={ContactPage} />
          <Route path="/app/reports" component={Reports} />
          <Route path="/app/reports/:name" component={Reports} />
          <Route path="/app/segments" component={Segments} />
          <Route path="/app/segments/:id" component={Segments} />
          <Route path="/app/forms" component={Forms} />
          <Route path="/app/forms/:id" component={Forms} />
          <Route path="/app/focus-items" component={FocusItems} />
          <Route path="/app/focus-items/:id" component={FocusItems} />
          <Route path="/app/settings" component={Settings} />
          <Route path="/app/settings/sites" component={SitesSettings} />
          <Route path="/app/settings/api-keys" component={ApiKeysSettings} />
          <Route path="/app/settings/stages" component={StagesSettings} />
          <Route path="/app/settings/points" component={PointsSettings} />
          <Route path="/app/settings/email" component={EmailSettings} />
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
