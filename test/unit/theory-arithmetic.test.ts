/** How the laws combine predictions (lab/scenario/theory/arithmetic.ts). */
import { expect } from 'chai';
import { capAt, scale } from '../../lab/scenario/theory/arithmetic.ts';
import { between, exactly } from '../../lab/scenario/theory/prediction.ts';

describe('combining predictions (arithmetic.ts)', () => {
  it('scales both ends and says why', () => {
    expect(scale(between(998, 999), 2, '2 destinations')).to.deep.equal({ min: 1996, max: 1998, why: '2 destinations' });
  });

  it('caps a ceiling at what is asked, and leaves one the ask does not reach', () => {
    expect(capAt(exactly(1000, '1000 ports'), 400)).to.deep.include({ min: 400, max: 400 });
    expect(capAt(exactly(1000, '1000 ports'), 400).why).to.equal('400 asked, below the ceiling (1000 ports)');
    expect(capAt(exactly(1000, '1000 ports'), 5000)).to.deep.equal({ min: 1000, max: 1000, why: '1000 ports' });
  });
});
