import Box from '@mui/material/Box';
import type { Face } from '../../api/types';

/**
 * A box in result-image pixels as percentages of the image: placed in a
 * container with the image's aspect ratio, it follows the displayed size.
 */
export function boxPercent([x, y, w, h]: Face['box'], width: number, height: number) {
  const pct = (v: number, of: number) => `${(v / of) * 100}%`;
  return { left: pct(x, width), top: pct(y, height), width: pct(w, width), height: pct(h, height) };
}

export interface FaceBoxesProps {
  faces: Face[];
  width: number;
  height: number;
  highlighted: number | null;
}

/** Numbered outlines over the faces; the list beside says the same in words. */
export function FaceBoxes({ faces, width, height, highlighted }: FaceBoxesProps) {
  return (
    <Box aria-hidden sx={{ position: 'absolute', inset: 0, pointerEvents: 'none' }}>
      {faces.map((f, i) => (
        <Box
          key={i}
          data-testid="face-box"
          sx={{
            position: 'absolute',
            ...boxPercent(f.box, width, height),
            border: 3,
            borderColor: i === highlighted ? '#ffd600' : '#ffffff',
            outline: '2px solid rgba(0,0,0,0.75)',
            borderRadius: 1,
            transition: 'border-color 120ms',
          }}
        >
          <Box
            sx={{
              position: 'absolute',
              top: -2,
              left: -2,
              transform: 'translateY(-100%)',
              bgcolor: i === highlighted ? '#ffd600' : '#ffffff',
              color: '#111',
              fontWeight: 800,
              fontSize: 13,
              lineHeight: '20px',
              px: 0.75,
              borderRadius: '4px 4px 0 0',
            }}
          >
            {i + 1}
          </Box>
        </Box>
      ))}
    </Box>
  );
}
