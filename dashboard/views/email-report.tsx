import { useRoute } from 'preact-iso/router';
import { useEffect } from 'preact/hooks';
import { api, load } from '../api/client';
import { kindLabel } from '../emails/common';
import { ClickMap, Stats } from '../emails/report';
import { ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// An email's report over all its sends (API, campaigns, broadcasts), with the click map.

export default function EmailReport() {
  const { params } = useRoute();
  const id = Number(params.id);
  const data = useLoad(
    async () =>
      Number.isSafeInteger(id) && id > 0
        ? Promise.all([load(api.GET('/api/v1/emails/{id}', { params: { path: { id } } })), load(api.GET('/api/v1/emails/{id}/report', { params: { path: { id } } }))])
        : Promise.reject(new Error('There is no email at this address.')),
    String(id),
  );
  const name = data.state === 'done' ? data.data[0].name : null;
  useEffect(() => void (document.title = `${name ? `${name} · ` : ''}Report · Emails · Leadline`), [name]);
  return (
    <section class="email-report">
      <p class="crumbs">
        <a href="/app/emails">Emails</a>
      </p>
      <h1 tabIndex={-1}>{name ? `Report: ${name}` : 'Email report'}</h1>
      {data.state === 'loading' && <Loading what="the report" />}
      {data.state === 'error' && <ErrorMessage message={data.message} retry={data.retry} />}
      {data.state === 'done' && (
        <>
          <p class="lead">
            {kindLabel(data.data[0].kind)} · subject “{data.data[0].subject}” · <a href={`/app/emails/${id}`}>Edit the email</a>. Every send of it, test sends left out.
          </p>
          <Stats r={data.data[1]} />
          <ClickMap emailId={id} links={data.data[1].links} />
        </>
      )}
    </section>
  );
}
