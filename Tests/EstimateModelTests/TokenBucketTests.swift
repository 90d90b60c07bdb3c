import Testing

@testable import EstimateModel

@Suite("Token bucket")
struct TokenBucketTests {
  let t0 = Instant(millisecondsSinceEpoch: 1_000_000)

  func at(_ seconds: Int64) -> Instant {
    Instant(millisecondsSinceEpoch: t0.millisecondsSinceEpoch + seconds * 1000)
  }

  @Test("A burst that fits: a full bucket takes its whole capacity at once")
  func burst() {
    var b = TokenBucket(limit: 60, start: t0)
    #expect(b.fits(60))
    b.charge(60)
    #expect(b.level.formatted() == "0")
    #expect(!b.fits(1))
  }

  @Test("A charge waits exactly as long as the refill needs: 60/min refills 1 per second")
  func exactWait() {
    var b = TokenBucket(limit: 60, start: t0)
    b.charge(60)
    #expect(b.whenFits(10) == at(10))
    b.advance(to: at(9))
    #expect(!b.fits(10))
    b.advance(to: at(10))
    #expect(b.fits(10))
  }

  @Test("Larger than the capacity never fits")
  func tooLarge() {
    let b = TokenBucket(limit: 60, start: t0)
    #expect(!b.canEverFit(61))
    #expect(b.whenFits(61) == nil)
    #expect(b.canEverFit(60))
  }

  @Test("Refill across a gap stops at the capacity")
  func refillCap() {
    var b = TokenBucket(limit: 60, start: t0)
    b.charge(60)
    b.advance(to: at(120))
    #expect(b.level.formatted() == "60")
    b.advance(to: at(30))  // never backwards
    #expect(b.level.formatted() == "60")
  }

  @Test("Refill is exact in milliseconds: 1,000/min over 1 s is 16.666667")
  func fractional() {
    var b = TokenBucket(limit: 1000, start: t0)
    b.charge(1000)
    b.advance(to: at(1))
    #expect(b.level.formatted() == "16.666667")
  }

  @Test("A settlement gives tokens back up to the capacity, or takes more into debt")
  func settle() {
    // 60/min refills 1 a second. Charge 50 (level 10), refund 45: 55.
    var b = TokenBucket(limit: 60, start: t0)
    b.charge(50)
    b.settle(45)
    #expect(b.level.formatted() == "55")
    // A refund past the capacity stops at 60.
    b.settle(30)
    #expect(b.level.formatted() == "60")
    // Taking 90 leaves a debt of 30: 0 fits again after 30 s.
    b.settle(-90)
    #expect(b.level.formatted() == "-30")
    #expect(!b.fits(0))
    #expect(b.whenFits(0) == at(30))
  }
}
