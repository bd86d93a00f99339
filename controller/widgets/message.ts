/** One line under the controls for what just happened: a short note, or an error that says why. */
export interface MessageLine {
  info(text: string): void;
  error(text: string): void;
  /** A request's answer did not come within its timeout (the server is busy, restarting or out of reach). */
  noAnswer(): void;
}

/** How long a tablet waits for the server to answer a request before telling the visitor it did not come. */
export const ANSWER_TIMEOUT_MS = 5000;

const INFO_MS = 2500;
const ERROR_MS = 8000;

export function messageLine(element: HTMLElement): MessageLine {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const show = (text: string, isError: boolean, ms: number) => {
    clearTimeout(timer);
    element.textContent = text;
    element.classList.toggle('error', isError);
    timer = setTimeout(() => {
      element.textContent = '';
      element.classList.remove('error');
    }, ms);
  };
  return {
    info: (text) => show(text, false, INFO_MS),
    error: (text) => show(text, true, ERROR_MS),
    noAnswer: () => show('The server did not answer. Try again in a moment.', true, ERROR_MS),
  };
}
