/** Stops every track of a stream (turns the camera light off). */
export function stopStream(stream: MediaStream): void {
  for (const track of stream.getTracks()) track.stop();
}

/** The video's current frame as a JPEG file, at the camera's full resolution. */
export function snapshot(video: HTMLVideoElement, quality = 0.92): Promise<File> {
  return new Promise((resolve, reject) => {
    const { videoWidth: w, videoHeight: h } = video;
    if (!w || !h) {
      reject(new Error('the camera has not started'));
      return;
    }
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    if (!ctx) {
      reject(new Error('no 2D canvas'));
      return;
    }
    ctx.drawImage(video, 0, 0, w, h);
    canvas.toBlob(
      (blob) => (blob ? resolve(new File([blob], `webcam-${Date.now()}.jpg`, { type: 'image/jpeg' })) : reject(new Error('encoding failed'))),
      'image/jpeg',
      quality,
    );
  });
}

/** Which message explains a getUserMedia failure. */
export function cameraProblem(err: unknown): 'denied' | 'none' | 'busy' | 'failed' {
  const name = err instanceof DOMException || err instanceof Error ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'none';
  if (name === 'NotReadableError' || name === 'AbortError') return 'busy';
  return 'failed';
}
