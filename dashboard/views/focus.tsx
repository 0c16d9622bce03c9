export default function FocusItems() {
  return <h1 tabIndex={-1}>Focus items</h1>;
}
